"""社会保障卡服务: the card's status, and 临时挂失 confirmed with the phone number on record.

One screen, four steps: loading -> (status | lost | phone) -> working. The phone number is
keyed on the large keypad; it is never shown back in full (the keypad line shows what is
typed only while typing, and it is cleared after every answer). Backend and printer calls
run on the worker.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import NumericProperty, OptionProperty, StringProperty

from kiosk.errors import KioskError
from kiosk.screens.base import KioskScreen
from kiosk.services.card_services import STATE_NEXT, CardLossFlow, CardState, PhoneMismatchError
from kiosk.services.journey import Outcome

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

INSTRUCTIONS = {
    "loading": ("正在查询您的社会保障卡信息", "Looking up your social security card"),
    "status": ("请查看您的社会保障卡状态", "Here is the status of your card"),
    "lost": ("您的社会保障卡已处于临时挂失状态", "Your card is already reported lost"),
    "phone": ("请输入您登记的手机号码，确认挂失", "Key in your registered mobile number to confirm"),
    "working": ("正在办理，请稍候", "Working on it, please wait"),
}


class CardServiceScreen(KioskScreen):
    step = OptionProperty("loading", options=list(INSTRUCTIONS))
    card_zh = StringProperty("")  # masked card number and status
    card_en = StringProperty("")
    next_zh = StringProperty("")  # under the state: what to do next
    next_en = StringProperty("")
    hint_zh = StringProperty("")
    hint_en = StringProperty("")
    message_zh = StringProperty("")
    message_en = StringProperty("")
    attempts_left = NumericProperty(0)

    @property
    def instruction(self):  # type: ignore[override]
        return INSTRUCTIONS[self.step]

    @property
    def is_loss(self) -> bool:
        return isinstance(self.journey.flow, CardLossFlow)

    def on_pre_enter(self, *args):
        self.step = "loading"
        self.card_zh = self.card_en = self.message_zh = self.message_en = ""
        self.ids.keypad.clear()
        flow = self.journey.flow
        if flow is None:
            return
        self.ids.title.zh, self.ids.title.en = flow.item.name_zh, flow.item.name_en
        self.app.worker.submit(flow.load, self._loaded, self._failed)

    def _loaded(self, card: CardState) -> None:
        flow = self.journey.flow
        if flow is None or self.journey.state != "item":
            return  # the session ended while loading
        self.card_zh = f"社会保障卡号：{card.masked_card_number}    状态：{card.status_zh}"
        self.card_en = f"Card {card.masked_card_number}: {card.status_en}"
        self.next_zh, self.next_en = STATE_NEXT[bool(card.lost)]
        if not self.is_loss:
            self.step = "status"
        elif card.lost:
            self.step = "lost"
            self.message_zh = f"该卡已于 {card.since} 临时挂失，无需重复挂失。请尽快到社保服务窗口办理正式挂失和补卡。"
            self.message_en = "This card is already reported lost. Please go to a social insurance window soon for a new card."
        else:
            self.step = "phone"
            self.attempts_left = flow.attempts_left
            if card.masked_phone:
                self.hint_zh = f"请输入登记的手机号码（{card.masked_phone}）"
                self.hint_en = f"Key in your registered mobile number ({card.masked_phone})"
            else:
                self.hint_zh = "请输入参保时登记的11位手机号码"
                self.hint_en = "Key in the 11-digit mobile number you registered"
        self.app.speak(*self.instruction)

    def _failed(self, error: KioskError) -> None:
        flow = self.journey.flow
        if flow is None or self.journey.state != "item":
            return
        self.journey.finish(flow.failed_outcome(error))

    def report(self, phone: str) -> None:
        """确定 on the keypad: confirm the loss with the keyed number."""
        flow = self.journey.flow
        if self.step != "phone" or flow is None:
            return
        self.step = "working"
        self.message_zh = self.message_en = ""
        self.app.worker.submit(lambda: flow.report(phone), self._reported, self._refused)

    def _reported(self, outcome: Outcome) -> None:
        self.ids.keypad.clear()
        self.finish_item(outcome)

    def _refused(self, error: KioskError) -> None:
        """A wrong or malformed number: say so, clear the keypad, let them try again."""
        self.ids.keypad.clear()
        if self.journey.state != "item":
            return
        self.step = "phone"
        if isinstance(error, PhoneMismatchError):
            self.attempts_left = error.attempts_left
            self.message_zh = f"{error.message_zh}（还可输入 {error.attempts_left} 次）"
            self.message_en = f"{error.message_en} ({error.attempts_left} tries left)"
        else:
            self.message_zh, self.message_en = error.message_zh, error.message_en
        self.app.speak(self.message_zh, self.message_en)

    def done(self) -> None:
        """完成 on the status or already-lost step."""
        flow = self.journey.flow
        if flow is None or self.step not in ("status", "lost"):
            return
        self.journey.finish(flow.already_lost_outcome() if self.step == "lost" else flow.status_outcome())
