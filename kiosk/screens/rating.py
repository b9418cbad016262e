"""好差评: five large choices of equal weight, each a face and its words, and a QR code.

No level is pre-selected, highlighted or hinted at: the five are the same size and colour,
told apart by the face's shape and the words. One tap on 非常满意 / 满意 / 基本满意 submits;
不满意 / 非常不满意 ask for a reason from a pick-list (required; the on-site indicators
整体满意度 … may be ticked too) and 提交评价, whose disabled state says what is missing. The
evaluation pad is prompted at the same time; whichever answers first counts, once.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.screens.base import KioskScreen
from kiosk.services.rating import INDICATORS, REASONS, Level, Rating
from kiosk.widgets import icons
from kiosk.widgets.common import BigButton, RatingChoice

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

SELECTED = "【已选】"


class RatingScreen(KioskScreen):
    instruction = ("请您对本次服务进行评价", "Please rate this service")
    level = NumericProperty(0)  # 0: nothing chosen yet
    needs_reason = BooleanProperty(False)
    can_submit = BooleanProperty(False)
    online_url = StringProperty("")
    chosen_zh = StringProperty("")  # the level that needs a reason, in words and as its face
    chosen_en = StringProperty("")
    chosen_icon = StringProperty("")

    def __init__(self, **kw) -> None:
        self._options: dict[str, BigButton] = {}
        super().__init__(**kw)

    def on_pre_enter(self, *args):
        self.level = 0
        self._indicators: set[str] = set()
        self._reasons: set[str] = set()
        levels = self.ids.levels
        if not levels.children:  # built once; every visit starts them unselected
            for level in sorted(Level, reverse=True):
                choice = RatingChoice(zh=level.label_zh, en=level.label_en, icon=icons.level(int(level)))
                choice.level = int(level)
                choice.bind(on_release=lambda b: self.choose(b.level))
                levels.add_widget(choice)
        for choice in levels.children:
            choice.chosen = False
        self.ids.indicators.clear_widgets()
        self.ids.reasons.clear_widgets()
        self.needs_reason = False
        self.online_url = self.journey.online_rating_url()
        self._update()

    def on_enter(self, *args):
        pad = self.journey.ports.devices.device("ratingpad")
        if pad is not None:
            timeout = self.journey.ports.config.session.rating_timeout_s
            self.app.worker.submit(lambda: pad.prompt(timeout))

    def on_leave(self, *args):
        pad = self.journey.ports.devices.device("ratingpad")
        if pad is not None:
            self.app.worker.submit(pad.cancel)

    def choose(self, level: int) -> None:
        """A tap on a face: submitted at once, unless the level needs a reason first."""
        self.level = level
        for choice in self.ids.levels.children:
            choice.chosen = choice.level == level
        self.needs_reason = Level(level).needs_reason
        name = Level(level)
        self.chosen_zh, self.chosen_en, self.chosen_icon = name.label_zh, name.label_en, icons.level(level)
        self._reasons.clear()
        self._indicators.clear()
        if not self.needs_reason:
            self._update()
            self.submit()
            return
        self._fill(self.ids.reasons, REASONS, self._reasons)
        self._fill(self.ids.indicators, INDICATORS, self._indicators)
        self._update()

    def choose_again(self) -> None:
        """Back to the five faces (a bad level tapped by mistake)."""
        self.level = 0
        self.needs_reason = False
        for choice in self.ids.levels.children:
            choice.chosen = False
        self.ids.reasons.clear_widgets()
        self.ids.indicators.clear_widgets()
        self._update()

    def _fill(self, box, options: dict[str, tuple[str, str]], chosen: set[str]) -> None:
        box.clear_widgets()
        for code, (zh, en) in options.items():
            button = self._options.get(code)
            if button is None:  # one button per option for the life of the screen
                button = self._options[code] = BigButton(zh=zh, en=en)
                button.code, button.label = code, zh
                button.bind(on_release=self._toggle)
            button.kind, button.zh, button.chosen = "secondary", zh, chosen
            box.add_widget(button)

    def _toggle(self, button) -> None:
        chosen = button.chosen
        if button.code in chosen:
            chosen.discard(button.code)
        else:
            chosen.add(button.code)
        on = button.code in chosen
        button.kind = "primary" if on else "secondary"
        button.zh = (SELECTED if on else "") + button.label
        self._update()

    def _update(self) -> None:
        self.can_submit = bool(self.level) and (not self.needs_reason or bool(self._reasons))

    def submit(self) -> None:
        if not self.can_submit:
            return
        self.journey.rate(
            Rating(
                level=Level(self.level),
                indicators=tuple(sorted(self._indicators)),
                reasons=tuple(sorted(self._reasons)),
                source="screen",
            )
        )
