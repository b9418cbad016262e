"""付款码支付: the resident shows their phone's payment code to the scanner (被扫).

Reached from the QR code screen (出示付款码) and back to it (返回扫码支付): both pay the
session's one order. A code scanned while this screen is up (not before) is paid on the
worker by ``kiosk.services.payment_code``; meanwhile the screen says what is happening (the
payer confirming on the phone, the terminal asking after a missing answer, a reversal). A
refused code says why and what to do; a paid, reversed or doubtful payment ends the item like
the QR path. The order's clock still governs: at its end the QR screen closes the order.
Leaving any other way (card taken away, 返回首页) settles what is open, as the QR screen does.
"""

from __future__ import annotations

import time
from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

import kiosk.widgets.scan_picture  # noqa: F401 - ScanPicture in the kv rule
from kiosk.errors import KioskError
from kiosk.hardware.base import EventKind
from kiosk.money import yuan
from kiosk.screens.base import KioskScreen
from kiosk.services.payment_code import Stage, for_flow

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

#: what the payment is doing -> what the resident reads meanwhile
STAGES = {
    Stage.ASKING: ("正在付款，请稍候…", "Paying, please wait…"),
    Stage.CONFIRMING: ("请在手机上确认付款（如需输入支付密码，请输入）",
                       "Confirm the payment on your phone (enter your payment password if asked)"),
    Stage.CHECKING: ("正在确认付款结果，请勿离开…", "Checking the payment, please stay…"),
    Stage.REVERSING: ("付款未能及时确认，正在撤销，请勿离开…", "Could not confirm in time: reversing, please stay…"),
}


class PaymentCodeScreen(KioskScreen):
    instruction = ("请打开微信、支付宝或银行App的付款码，对准下方扫码窗口",
                   "Open the payment code in WeChat, Alipay or your bank's app and hold it to the scanner window")
    working = BooleanProperty(False)
    stage_zh = StringProperty("")
    stage_en = StringProperty("")
    error_zh = StringProperty("")
    error_en = StringProperty("")
    amount_text = StringProperty("")
    payee_zh = StringProperty("")
    payee_en = StringProperty("")
    down_zh = StringProperty("")
    down_en = StringProperty("")
    seconds_left = NumericProperty(0)

    _flow = None
    _payer = None
    _since = 0.0
    _tick = None
    _back_to_qr = False

    def on_pre_enter(self, *args):
        self.working, self._back_to_qr = False, False
        self.stage_zh = self.stage_en = self.error_zh = self.error_en = ""
        self._since = time.time()  # a code scanned before this screen came up never pays
        self._flow = flow = self.journey.flow
        self._payer = for_flow(flow) if flow is not None else None
        order = flow.payment.order if flow is not None else None
        self.amount_text = yuan(int(order["amount_fen"])) if order else ""
        charge = getattr(flow, "charge", None)
        self.payee_zh, self.payee_en = (charge.payee_zh, charge.payee_en) if charge else ("", "")
        super().on_pre_enter(*args)

    def refresh(self) -> None:
        reason = self.journey.ports.devices.unavailable_reason(["scanner"])
        self.down_zh, self.down_en = reason or ("", "")
        if self._flow is not None:
            self.seconds_left = self._flow.seconds_left()

    def on_enter(self, *args):
        self.ids.picture.start()
        self._tick = Clock.schedule_interval(self._on_tick, 0.5)

    def on_leave(self, *args):
        self.ids.picture.stop()
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None
        flow, payer = self._flow, self._payer
        self._flow = self._payer = None
        if flow is None or self._back_to_qr or self.journey.state == "result":
            return
        # the session ended here (card taken away, 返回首页, idle): stop waiting, settle what is open
        if payer is not None:
            payer.stop()
        if flow.outcome is None and flow.payment.order is not None:
            self.app.worker.submit(flow.abandon)

    def _on_tick(self, _dt: float) -> None:
        flow, payer = self._flow, self._payer
        if flow is None:
            return
        self.app.touched()  # the payment's own clock governs here, as under the QR code
        self.seconds_left = flow.seconds_left()
        if self.working and payer is not None:
            self.stage_zh, self.stage_en = STAGES.get(payer.stage, ("", ""))
        elif self.seconds_left <= 0:
            self.back_to_qr()  # time is up: the QR screen closes the order and says so

    def on_device_event(self, event) -> None:
        super().on_device_event(event)
        if event.device != "scanner":
            return
        if event.kind is EventKind.STATUS:
            self.refresh()
            return
        if event.kind is not EventKind.SCAN or self.working or self._payer is None or event.at < self._since:
            return
        if self.journey.state != "item" or self.journey.flow is not self._flow:
            return
        payer, code = self._payer, event.payload
        self.app.touched()
        self.working = True
        self.error_zh = self.error_en = ""
        self.stage_zh, self.stage_en = STAGES[Stage.ASKING]
        self.app.worker.submit(lambda: payer.pay(code), lambda result: self._paid(result, payer), self._failed)

    def _paid(self, result, payer) -> None:
        self.working = False
        self.stage_zh = self.stage_en = ""
        if payer is not self._payer:
            return  # the screen was left meanwhile
        if result.outcome is not None:
            self.finish_item(result.outcome)
            return
        self.error_zh, self.error_en = result.message_zh, result.message_en
        self.app.speak(result.message_zh, result.message_en)  # shown in the screen's own banner

    def _failed(self, error: KioskError) -> None:
        self.working = False
        self.stage_zh = self.stage_en = ""
        self.error_zh, self.error_en = error.message_zh, error.message_en
        self.app.speak(error.message_zh, error.message_en)  # shown in the screen's own banner

    def back_to_qr(self) -> None:
        """返回扫码支付: the order's QR code again (the same order)."""
        if self.working or self.journey.state != "item":
            return
        self._back_to_qr = True
        self.app.navigator.go("payment_qr")
