"""核验身份: place the ID card on the reader (or insert the social-security card)."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty

from kiosk.errors import KioskError
from kiosk.identity import CardType, Identity, is_valid_id_number
from kiosk.screens.base import KioskScreen

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

_METHODS = {
    "idcard": ("请将居民身份证放在读卡区", "Place your ID card on the reader"),
    "sscard": ("或将社会保障卡插入读卡口", "or insert your social security card"),
}


class IdentifyScreen(KioskScreen):
    instruction = _METHODS["idcard"]
    how_zh = StringProperty("")
    how_en = StringProperty("")
    keyed = BooleanProperty(False)  # the item also accepts an ID number keyed in
    keypad_shown = BooleanProperty(False)

    def refresh(self) -> None:
        item = self.journey.item
        accepted = [m for m in (item.identify if item else []) if m in _METHODS]
        self.how_zh = "\n".join(_METHODS[m][0] for m in accepted)
        self.how_en = "\n".join(_METHODS[m][1] for m in accepted)
        self.keyed = bool(item and "keyed" in item.identify)
        self.keypad_shown = False
        self.ids.keyed_box.clear_widgets()

    def show_keypad(self) -> None:
        """No card at hand: key the 18-character ID number (X for the check character)."""
        from kiosk.widgets.keypad import Keypad

        keypad = Keypad(letters="X", max_length=18, min_length=18, masked=True,
                        placeholder_zh="请输入18位身份证号码", placeholder_en="Key in the 18-character ID number")
        keypad.bind(on_submit=lambda pad, value: self._keyed(pad, value))
        self.ids.keyed_box.clear_widgets()
        self.ids.keyed_box.add_widget(keypad)
        self.keypad_shown = True

    def _keyed(self, keypad, value: str) -> None:
        keypad.clear()  # the number never stays on screen, even as dots
        if not is_valid_id_number(value):
            self.app.say("身份证号码有误，请核对后重新输入", "That ID number is not valid; please check it and key it again", "error")
            return
        try:
            self.journey.identify(Identity(CardType.KEYED, name="", id_number=value.upper()), "keyed")
        except KioskError as e:
            self.app.say(e.message_zh, e.message_en, "error")

    def on_enter(self, *args):
        # a card already lying on the reader gives no new event: use it
        for name in self.journey.item.identify if self.journey.item else []:
            device = self.journey.ports.devices.device(name)
            card = device.current() if device is not None and hasattr(device, "current") else None
            if card is not None:
                try:
                    self.journey.identify(card, name)
                except KioskError as e:
                    self.app.say(e.message_zh, e.message_en, "error")
                return
