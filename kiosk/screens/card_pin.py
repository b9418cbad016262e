"""社会保障卡密码修改: old PIN, new PIN, new PIN again, on a keypad shuffled at every step.

The card checks the old PIN at once (a wrong one says how many tries are left; the last one,
or a blocked PIN, ends the item and sends the resident to a counter), a weak new PIN is
refused on the spot with the rule it breaks, two new PINs that differ go back one step, and
the card keeps the new PIN. The PINs go from the keypad straight to the flow as
``bytearray``s it overwrites; this screen never holds, shows or speaks one. Card commands run
on the worker.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import OptionProperty, StringProperty

import kiosk.widgets.pinpad  # noqa: F401 - PinPad in the kv rule
from kiosk.errors import KioskError
from kiosk.hardware.sscard_apdu import PinBlockedError, WrongPinError
from kiosk.screens.base import KioskScreen
from kiosk.services.card_pin import PinRefused, wrong_pin_words

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

STEPS = {
    "old": ("请输入社会保障卡原密码（6位数字）", "Key in the card's current PIN (6 digits)"),
    "new": ("请设置新密码（6位数字）", "Choose a new PIN (6 digits)"),
    "again": ("请再次输入新密码", "Key in the new PIN again"),
    "working": ("正在处理，请勿拔卡…", "Working on it: leave the card in…"),
}


class CardPinScreen(KioskScreen):
    step = OptionProperty("old", options=list(STEPS))
    message_zh = StringProperty("")
    message_en = StringProperty("")
    card_zh = StringProperty("")  # whose card, masked
    card_en = StringProperty("")
    how_zh = StringProperty(STEPS["old"][0])  # what this step asks for
    how_en = StringProperty(STEPS["old"][1])
    _then = "old"  # the step to go back to after the card answers

    @property
    def instruction(self):  # type: ignore[override]
        return STEPS[self.step]

    def on_pre_enter(self, *args):
        self._show("old")
        self.message_zh = self.message_en = ""
        flow, session = self.journey.flow, self.journey.session
        card = session.sscard
        if flow is not None and card is not None:
            self.ids.title.zh, self.ids.title.en = flow.item.name_zh, flow.item.name_en
            who = card.identity.masked_name
            self.card_zh = f"卡号 {card.masked_card_number}　持卡人 {who}"
            self.card_en = f"Card {card.masked_card_number}, holder {who}"
        super().on_pre_enter(*args)

    def on_leave(self, *args):
        self.ids.pinpad.clear()

    def _show(self, step: str) -> None:
        self.step = step
        self.how_zh, self.how_en = STEPS[step]
        self.ids.pinpad.clear()
        self.ids.pinpad.enabled = step != "working"
        if step != "working":
            self.ids.pinpad.shuffle()  # a new layout every time the keypad is asked for

    def _say(self, zh: str, en: str) -> None:
        self.message_zh, self.message_en = zh, en
        self.app.speak(zh, en)

    def entered(self, pin: bytearray) -> None:
        flow = self.journey.flow
        if flow is None or self.step == "working":
            pin[:] = bytes(len(pin))
            return
        self.message_zh = self.message_en = ""
        if self.step == "old":
            self._then = "old"
            self._show("working")
            self.app.worker.submit(lambda: flow.check_old(pin), lambda _r: self._old_ok(), self._refused)
        elif self.step == "new":
            try:
                flow.set_new(pin)  # no I/O: the rules are checked here and now
            except PinRefused as e:
                self._show("new")
                self._say(e.message_zh, e.message_en)
                return
            self._show("again")
        else:
            self._then = "new"
            self._show("working")
            self.app.worker.submit(lambda: flow.change(pin), self.finish_item, self._refused)

    def _old_ok(self) -> None:
        self._show("new")

    def _refused(self, error: KioskError) -> None:
        flow = self.journey.flow
        if flow is None:
            return
        if isinstance(error, PinBlockedError) or (isinstance(error, WrongPinError) and error.tries_left == 0):
            self.finish_item(flow.card_refused(error))
            return
        if isinstance(error, WrongPinError):
            self._show("old")
            self._say(*wrong_pin_words(error))
            return
        if isinstance(error, PinRefused):
            self._show(flow.step)
            self._say(error.message_zh, error.message_en)
            return
        self._show(self._then)
        self._say(error.message_zh, error.message_en)
