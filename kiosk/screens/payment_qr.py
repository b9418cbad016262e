"""Pay by QR code: the order's code, the amount in ￥, the payee and a countdown.

The order is created on the worker when the screen opens (or this session's order is got
back: a session never has two). While the code is up the screen asks the flow every
``POLL_INTERVAL_S`` (on the worker, one question at a time) whether the resident has paid;
the flow decides how it ends — paid (receipt printed), 取消 or time up (order closed), or
unknown (支付结果确认中). The payment's own clock governs here, so the idle timer is held off
while the code is up. Leaving the screen any other way (card taken away) closes the order.
"""

from __future__ import annotations

from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

import kiosk.widgets.qr  # noqa: F401 - registers QrCode for the kv rule
from kiosk.errors import KioskError
from kiosk.money import yuan
from kiosk.screens.base import KioskScreen
from kiosk.services.payment_order import POLL_INTERVAL_S, PayState, QrView

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class PaymentQrScreen(KioskScreen):
    instruction = ("请使用手机扫描二维码完成支付", "Scan the QR code with your phone to pay")
    ready = BooleanProperty(False)
    ending = BooleanProperty(False)
    unknown = BooleanProperty(False)
    payload = StringProperty("")
    amount_text = StringProperty("")
    payee_zh = StringProperty("")
    payee_en = StringProperty("")
    title_zh = StringProperty("")
    order_no = StringProperty("")
    seconds_left = NumericProperty(0)
    #: a scanner is fitted: the resident may show their phone's payment code instead (付款码)
    code_offered = BooleanProperty(False)

    _flow = None
    _tick = None
    _asking = False
    _since_poll = 0.0

    _to_code = False  # 出示付款码 was pressed: the order stays open for the payment-code screen

    def pay_by_code(self) -> None:
        """出示付款码: the same order, paid with the resident's payment code (its own screen)."""
        if self.ready and not self.ending:
            self._to_code = True
            self.app.navigator.go("payment_code")

    def on_pre_enter(self, *args):
        self._to_code = False
        self.code_offered = self.journey.ports.devices.fitted("scanner")
        self.ready = self.ending = self.unknown = False
        self.payload = self.amount_text = self.payee_zh = self.payee_en = self.order_no = ""
        self.seconds_left = 0
        self._asking, self._since_poll = False, 0.0
        self._flow = flow = self.journey.flow
        self.title_zh = self.journey.item.name_zh if self.journey.item else ""
        if flow is not None:
            self.app.worker.submit(flow.start_payment, lambda view: self._show(view, flow), self._not_started)

    def _show(self, view: QrView, flow) -> None:
        if self._flow is not flow or self.journey.flow is not flow:
            # the session ended while the order was being made: nobody saw the code, close it
            self.app.worker.submit(flow.abandon)
            return
        self.payload = view.qr_payload
        self.order_no = view.order_no
        self.amount_text = yuan(view.amount_fen)
        self.payee_zh, self.payee_en = view.payee_zh, view.payee_en
        self.seconds_left = view.seconds_left
        self.ready = True
        self._tick = Clock.schedule_interval(self._on_tick, 1.0)

    def _not_started(self, error: KioskError) -> None:
        flow = self._flow
        if flow is not None and self.journey.flow is flow:
            self.app.worker.submit(lambda: flow.order_failed(error), self._end)

    def _on_tick(self, dt: float) -> None:
        flow = self._flow
        if flow is None or self.ending:
            return
        self.app.touched()  # the resident is paying on the phone: the payment window governs
        self.seconds_left = flow.seconds_left()
        self.unknown = flow.state is PayState.UNKNOWN
        self._since_poll += dt
        if not self._asking and (self._since_poll >= POLL_INTERVAL_S or self.seconds_left <= 0):
            self._asking, self._since_poll = True, 0.0
            self.app.worker.submit(flow.poll, self._polled, self._poll_failed)

    def _polled(self, outcome) -> None:
        self._asking = False
        if self._flow is not None:
            self.unknown = self._flow.state is PayState.UNKNOWN
        if outcome is not None:
            self._end(outcome)

    def _poll_failed(self, error: KioskError) -> None:
        # the backend refused the question itself (not a lost answer): treat it as unknown and
        # let the flow's grace period decide; the next tick asks again
        self._asking = False

    def cancel(self) -> None:
        flow = self._flow
        if flow is None or self.ending:
            return
        self.ending = True
        self._stop()
        self.app.worker.submit(flow.cancel, self._end, self._cancel_failed)

    def _cancel_failed(self, error: KioskError) -> None:
        # the backend refused to close (not a lost answer): keep the code up and keep asking
        self.ending = False
        if self._flow is not None and self._tick is None:
            self._tick = Clock.schedule_interval(self._on_tick, 1.0)
        self.app.speak(error.message_zh, error.message_en)

    def _end(self, outcome) -> None:
        self._stop()
        self.ending = True
        if self._flow is not None and self.journey.flow is self._flow and self.journey.state == "item":
            self.journey.finish(outcome)

    def _stop(self) -> None:
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None

    def on_leave(self, *args):
        self._stop()
        flow, self._flow = self._flow, None
        if self._to_code:
            return  # to the payment code: the same order, still open
        if flow is not None and flow.outcome is None and flow.payment.order is not None:
            # the session ended under the QR code (card taken away): close what is still open
            self.app.worker.submit(flow.abandon)
