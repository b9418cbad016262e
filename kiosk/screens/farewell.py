"""The end of a visit: thanks, why it ended, and what the resident must not leave behind.

Shown by the journey's ``farewell`` state whenever a visit ends with something to say (a
rating given, the card taken away mid-item, a timeout) or something to take (a card still on
or in a reader, papers printed). While a card is left, the reminder is spoken again and a
short beep sounds every few seconds until the reader reports it gone; then, or after
``farewell_s`` when nothing is left, the journey goes home. Nothing personal is shown here:
the session is already wiped.
"""

from __future__ import annotations

from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty

import kiosk.widgets.pictures  # noqa: F401 - CardPicture in the kv rule
from kiosk.screens.base import KioskScreen

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

#: why the visit ended -> the headline
REASONS = {
    "rated": ("感谢您的评价", "Thank you for your rating"),
    "card_removed": ("证件已取走，本次办理已结束", "The card was taken away, so this visit has ended"),
    "timeout": ("长时间无操作，本次办理已结束", "No one was here for a while, so this visit has ended"),
}
ENDED = ("本次办理已结束", "This visit has ended")
BEEP_EVERY_S = 3.0
SAY_EVERY_S = 9.0
#: (cards left, papers printed) -> 请取走… (whole sentences: each one is in the catalogue)
TAKE_AWAY = {
    ((), ("certificate",)): ("请取走您的证明", "Please take your certificate"),
    ((), ("receipt",)): ("请取走您的凭条", "Please take your receipt"),
    (("idcard",), ()): ("请取走您的身份证", "Please take your ID card"),
    (("idcard",), ("certificate",)): ("请取走您的身份证和证明", "Please take your ID card and your certificate"),
    (("idcard",), ("receipt",)): ("请取走您的身份证和凭条", "Please take your ID card and your receipt"),
    (("sscard",), ()): ("请取走您的社会保障卡", "Please take your social security card"),
    (("sscard",), ("certificate",)): ("请取走您的社会保障卡和证明", "Please take your social security card and your certificate"),
    (("sscard",), ("receipt",)): ("请取走您的社会保障卡和凭条", "Please take your social security card and your receipt"),
    (("idcard", "sscard"), ()): ("请取走您的身份证和社会保障卡", "Please take your ID card and your social security card"),
    (("idcard", "sscard"), ("certificate",)): ("请取走您的身份证、社会保障卡和证明", "Please take your ID card, social security card and certificate"),
    (("idcard", "sscard"), ("receipt",)): ("请取走您的身份证、社会保障卡和凭条", "Please take your ID card, social security card and receipt"),
}


def take_away_line(cards: tuple[str, ...], papers: tuple[str, ...]) -> tuple[str, str]:
    """请取走您的身份证和凭条 / Please take your ID card and your receipt."""
    key = (tuple(c for c in ("idcard", "sscard") if c in cards), tuple(papers[:1]))
    return TAKE_AWAY.get(key, ("", ""))


class FarewellScreen(KioskScreen):
    headline_zh = StringProperty("")
    headline_en = StringProperty("")
    take_zh = StringProperty("")
    take_en = StringProperty("")
    idcard_left = BooleanProperty(False)
    sscard_left = BooleanProperty(False)
    papers = BooleanProperty(False)

    _beeper = None
    _since_said = 0.0

    @property
    def instruction(self):  # type: ignore[override]
        if self.take_zh:
            return (self.take_zh, self.take_en)
        return (self.headline_zh, self.headline_en)

    def refresh(self) -> None:
        farewell = self.journey.farewell
        if farewell is None:
            return
        self.headline_zh, self.headline_en = REASONS.get(farewell.reason, ENDED)
        self.take_zh, self.take_en = take_away_line(farewell.cards, farewell.papers)
        self.idcard_left = "idcard" in farewell.cards
        self.sscard_left = "sscard" in farewell.cards
        self.papers = bool(farewell.papers) and not farewell.cards
        if farewell.cards:
            self._start_reminders()
        else:
            self._stop_reminders()

    def on_enter(self, *args):
        for picture in ("idcard_picture", "sscard_picture", "paper_picture"):
            self.ids[picture].start()

    def on_leave(self, *args):
        self._stop_reminders()
        for picture in ("idcard_picture", "sscard_picture", "paper_picture"):
            self.ids[picture].stop()

    def _start_reminders(self) -> None:
        if self._beeper is None:
            self._since_said = 0.0
            self._beeper = Clock.schedule_interval(self._remind, BEEP_EVERY_S)

    def _stop_reminders(self) -> None:
        if self._beeper is not None:
            self._beeper.cancel()
            self._beeper = None

    def _remind(self, dt: float) -> None:
        """A short beep every few seconds while a card is left; the words again now and then."""
        self.app.voice.beep()
        self._since_said += dt
        if self._since_said >= SAY_EVERY_S and self.take_zh:
            self._since_said = 0.0
            self.app.speak(self.take_zh, self.take_en)
