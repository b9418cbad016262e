"""A large numeric keypad: digits 0-9, 删除 and 确定, with its own display line.

No free-text entry on the terminal: PINs, phone numbers and account numbers are all typed
here. The keys share the keypad's full width, at least the theme's touch target high (72 dp
standard, 96 dp in elder mode), each digit drawn large (at least 40 dp) in either language.
``masked`` shows one dot per digit (PINs); ``on_submit`` fires with the value on 确定.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.properties import StringProperty as _Str
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

from kiosk.widgets import icons
from kiosk.widgets.common import BigButton

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

DOT = "●"
#: key order on the pad, as on a telephone
LAYOUT = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "delete", "0", "ok")


class DigitKey(ButtonBehavior, Label):
    """One digit (or letter) key: the character alone, large, the same in both languages."""

    key = _Str("")
    enabled = BooleanProperty(True)

    def on_touch_down(self, touch):
        if not self.enabled:
            return False
        return super().on_touch_down(touch)


class Keypad(BoxLayout):
    value = StringProperty("")
    max_length = NumericProperty(18)
    min_length = NumericProperty(1)  # 确定 stays disabled below this
    masked = BooleanProperty(False)
    enabled = BooleanProperty(True)
    placeholder_zh = StringProperty("")  # shown while nothing is typed
    placeholder_en = StringProperty("")
    display = StringProperty("")
    #: extra keys besides the digits, e.g. "X" for the check character of an ID number
    letters = StringProperty("")
    #: take the height the screen gives it (the keys grow, up to 1.8 touch targets)
    expand = BooleanProperty(False)

    __events__ = ("on_submit",)
    _ok: BigButton | None = None  # the 确定 key, once built (kv may set properties before)

    def on_kv_post(self, base_widget) -> None:
        # the keys go in once the kv rule has made the grid (later than __init__ when the
        # keypad is itself declared inside another rule)
        if self._ok is None:
            self._build_keys()
        self._update()

    def _build_keys(self) -> None:
        grid = self.ids["keys"]
        layout = LAYOUT
        if self.letters:  # the letters go before 0, the last row keeps 删除 / 确定
            layout = LAYOUT[:9] + tuple(self.letters) + ("0", "delete", "ok")
        for key in layout:
            if key == "delete":
                button = BigButton(zh="删除", en="Delete", kind="secondary", icon=icons.glyph("backspace-outline"))
                button.bind(on_release=lambda _b: self.delete())
            elif key == "ok":
                button = BigButton(zh="确定", en="OK", kind="primary", icon=icons.glyph("check-bold"))
                button.bind(on_release=lambda _b: self.submit())
                self._ok = button
            else:
                button = DigitKey(text=key)
                button.bind(on_release=lambda b: self.press(b.text))
            button.size_hint_y = 1  # every key the row's height
            button.key = key
            grid.add_widget(button)

    def on_value(self, *_) -> None:
        self._update()

    def on_masked(self, *_) -> None:
        self._update()

    def on_enabled(self, *_) -> None:
        self._update()

    def _update(self) -> None:
        if self.value:
            self.display = DOT * len(self.value) if self.masked else self.value
        else:
            self.display = ""
        if self._ok is not None:
            self._ok.enabled = self.enabled and len(self.value) >= self.min_length
        for button in self.ids["keys"].children if "keys" in self.ids else ():
            if button is not self._ok:
                button.enabled = self.enabled

    def press(self, digit: str) -> None:
        allowed = digit.isdigit() or digit in self.letters
        if self.enabled and allowed and len(digit) == 1 and len(self.value) < self.max_length:
            self.value += digit

    def delete(self) -> None:
        if self.enabled:
            self.value = self.value[:-1]

    def clear(self) -> None:
        self.value = ""

    def submit(self) -> None:
        if self.enabled and len(self.value) >= self.min_length:
            self.dispatch("on_submit", self.value)

    def on_submit(self, value: str) -> None:
        """Default handler (bind to ``on_submit`` to receive the value)."""
