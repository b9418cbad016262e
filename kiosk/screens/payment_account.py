"""水费 / 电费 / 燃气费: the account number (户号) on the large keypad, then the bill.

The number is shown only while it is typed and cleared after every answer; from the next
screen on it appears masked. A bill QR code or barcode cannot be scanned here: no scanner is
configured on this terminal, so the keypad is the only way in. The bill query runs on the
worker.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty

import kiosk.widgets.keypad  # noqa: F401 - loads the keypad's kv rule
from kiosk.errors import JourneyError, KioskError
from kiosk.screens.base import KioskScreen
from kiosk.services.payments import ACCOUNT_DIGITS

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class PaymentAccountScreen(KioskScreen):
    instruction = ("请输入缴费户号，然后点击确定", "Key in the account number, then press OK")
    title_zh = StringProperty("")
    title_en = StringProperty("")
    message_zh = StringProperty("")
    message_en = StringProperty("")
    checking = BooleanProperty(False)
    min_digits = ACCOUNT_DIGITS[0]
    max_digits = ACCOUNT_DIGITS[1]

    def refresh(self) -> None:
        item = self.journey.item
        self.title_zh = item.name_zh if item else "生活缴费"
        self.title_en = item.name_en if item else "Pay a bill"
        self.message_zh = self.message_en = ""
        self.checking = False
        self.ids.keypad.clear()

    def submit(self, account_no: str) -> None:
        flow = self.journey.flow
        if flow is None or self.checking:
            return
        self.checking = True
        self.message_zh = "正在查询账单…"
        self.message_en = "Looking up the bill…"
        self.app.worker.submit(lambda: flow.load_bill(account_no), self._loaded, self._failed)

    def _loaded(self, _charge) -> None:
        self.checking = False
        self.ids.keypad.clear()
        if self.journey.state == "item":
            self.app.navigator.go("payment_confirm")

    def typed(self) -> None:
        """A key was pressed: an earlier error is about a number that is being changed."""
        if not self.checking:
            self.message_zh = self.message_en = ""

    def _failed(self, error: KioskError) -> None:
        self.checking = False
        flow = self.journey.flow
        if flow is None or self.journey.state != "item":
            self.ids.keypad.clear()
            return
        if isinstance(error, JourneyError):  # a wrong number: say so, keep it to correct
            self.message_zh, self.message_en = error.message_zh, error.message_en
            self.app.speak(error.message_zh, error.message_en)
            return
        self.ids.keypad.clear()
        # the backend could not answer: nothing was ordered, so the item ends here, plainly
        self.app.worker.submit(lambda: flow.order_failed(error), self._end)

    def _end(self, outcome) -> None:
        if self.journey.state == "item":
            self.journey.finish(outcome)
