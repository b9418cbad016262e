"""A PIN keypad whose digits are shuffled every time it appears, showing only dots.

For the 社保卡 PIN: someone watching the resident's hand (or the smudges on the glass) learns
nothing from where the keys were, because they are somewhere else next time (``shuffle``,
from the system's random source). The digits typed are kept in a ``bytearray`` that is
overwritten as soon as it is handed on (``on_submit`` gets a copy the receiver must overwrite)
or cleared; the widget has no property holding them, so nothing binds to, logs or draws them.
The display shows one dot per digit typed out of ``length``.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.widgets.common import BigButton
from kiosk.widgets.keypad import DigitKey

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

FILLED, EMPTY = "●", "○"


class PinPad(BoxLayout):
    length = NumericProperty(6)
    count = NumericProperty(0)  # how many digits are typed (what the dots show)
    enabled = BooleanProperty(True)
    display = StringProperty("")
    #: take the room the screen gives (keys grow, up to 1.8 touch targets) instead of a fixed height
    expand = BooleanProperty(False)

    __events__ = ("on_submit",)

    def __init__(self, **kwargs) -> None:
        self._digits = bytearray()
        self._ok: BigButton | None = None
        super().__init__(**kwargs)

    def on_kv_post(self, base_widget) -> None:
        if self._ok is None:
            self.shuffle()
        self._update()

    def shuffle(self) -> None:
        """Lay the ten digits out in a new random order (删除 and 确定 keep their places)."""
        order = [str(d) for d in range(10)]
        secrets.SystemRandom().shuffle(order)
        grid = self.ids["keys"]
        grid.clear_widgets()
        keys = order[:9] + ["delete", order[9], "ok"]
        for key in keys:
            if key == "delete":
                button = BigButton(zh="删除", en="Delete", kind="secondary")
                button.bind(on_release=lambda _b: self.delete())
            elif key == "ok":
                button = BigButton(zh="确定", en="OK", kind="primary")
                button.bind(on_release=lambda _b: self.submit())
                self._ok = button
            else:
                button = DigitKey(text=key)  # the digit alone, large, the same in both languages
                button.bind(on_release=lambda b: self.press(b.key))
            button.key = key
            button.size_hint_y = 1  # as high as its row (the pad sets the rows' height)
            grid.add_widget(button)
        self._update()

    @property
    def layout(self) -> list[str]:
        """The keys in reading order (tests and tours check the shuffle; digits are not secret)."""
        return [b.key for b in reversed(self.ids["keys"].children)]

    def on_enabled(self, *_args) -> None:
        self._update()

    def _update(self) -> None:
        self.count = len(self._digits)
        self.display = FILLED * self.count + EMPTY * max(0, int(self.length) - self.count)
        for button in self.ids["keys"].children if "keys" in self.ids else ():
            button.enabled = self.enabled and (button is not self._ok or self.count == self.length)

    def press(self, digit: str) -> None:
        if self.enabled and len(digit) == 1 and digit.isdigit() and len(self._digits) < self.length:
            self._digits.append(ord(digit))
            self._update()

    def delete(self) -> None:
        if self.enabled and self._digits:
            self._digits[-1] = 0
            del self._digits[-1]
            self._update()

    def clear(self) -> None:
        """Forget what was typed (overwritten, then emptied)."""
        self._digits[:] = bytes(len(self._digits))
        self._digits = bytearray()
        self._update()

    def submit(self) -> None:
        if not self.enabled or len(self._digits) != self.length:
            return
        handed = bytearray(self._digits)  # the receiver overwrites this copy when done with it
        self.clear()
        self.dispatch("on_submit", handed)

    def on_submit(self, pin: bytearray) -> None:
        """Default handler (bind to ``on_submit``)."""
