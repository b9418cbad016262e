"""办理结果: success or failure in text, icon word and colour, with a reference number.

A failed action that can be retried (printing) offers a retry; otherwise the rating
screen follows by itself after a short pause (DB2203/T 8-2024 5.1.3).
"""

from __future__ import annotations

from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

import kiosk.widgets.pictures  # noqa: F401 - CardPicture in the kv rule
from kiosk.errors import KioskError
from kiosk.screens.base import KioskScreen
from kiosk.services.journey import Outcome
from kiosk.widgets import qr

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

AUTO_RATING_S = 8


class ResultScreen(KioskScreen):
    ok = BooleanProperty(True)
    title_zh = StringProperty("")
    title_en = StringProperty("")
    message_zh = StringProperty("")
    message_en = StringProperty("")
    reference = StringProperty("")
    can_retry = BooleanProperty(False)
    tone = StringProperty("success")  # success | notice | failure: the badge
    papers = BooleanProperty(False)  # paper came out: the picture of where to take it
    auto_left = NumericProperty(0)  # seconds until the rating follows by itself (0: it will not)

    _auto = None

    @property
    def instruction(self):  # type: ignore[override]
        return (self.title_zh, self.title_en)

    def refresh(self) -> None:
        outcome = self.journey.outcome
        if outcome is None:
            return
        self.ok = outcome.ok
        self.tone = outcome.tone
        self.papers = bool(self.journey.papers_printed())
        self.title_zh, self.title_en = outcome.title_zh, outcome.title_en
        self.message_zh, self.message_en = outcome.message_zh, outcome.message_en
        self.reference = outcome.reference
        self.can_retry = bool(outcome.can_retry)
        self._cancel_auto()
        if not self.can_retry:
            self.auto_left = AUTO_RATING_S
            self._auto = Clock.schedule_interval(self._count_down, 1.0)

    def _count_down(self, _dt: float) -> None:
        """The countdown the resident sees on the button: 8 s, then the rating follows."""
        self.auto_left -= 1
        if self.auto_left <= 0:
            self.done()

    def on_enter(self, *args):
        self.ids.paper.start()
        qr.prepare(self.journey.online_rating_url())  # the rating screen's code, while the resident reads

    def on_leave(self, *args):
        self._cancel_auto()
        self.ids.paper.stop()

    def _cancel_auto(self) -> None:
        self.auto_left = 0
        if self._auto is not None:
            self._auto.cancel()
            self._auto = None

    def retry(self) -> None:
        action = self.journey.retry_action()
        if action is None:
            return
        self.can_retry = False
        self.app.worker.submit(action, self._retried, self._retry_failed)

    def _retried(self, outcome: Outcome) -> None:
        self.journey.update_outcome(outcome)

    def _retry_failed(self, error: KioskError) -> None:
        self.can_retry = True
        self.app.say(error.message_zh, error.message_en, "error")

    def done(self) -> None:
        self._cancel_auto()
        if self.journey.state == "result":
            self.journey.to_rating()
