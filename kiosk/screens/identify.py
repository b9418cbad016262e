"""核验身份: place the ID card on the reader (or insert the social-security card)."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty

import kiosk.widgets.pictures  # noqa: F401 - CardPicture in the kv rule
from kiosk.errors import KioskError
from kiosk.identity import CardType, Identity, is_valid_id_number
from kiosk.screens.base import KioskScreen

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

_METHODS = {
    "idcard": ("请将居民身份证放在读卡区", "Place your ID card on the reader"),
    "sscard": ("或将社会保障卡插入读卡口", "or insert your social security card"),
}
#: a card was already on the reader when this resident began: it is never used
_LIFT = {
    "idcard": ("读卡区上已有一张身份证，请取走后重新放置您的证件",
               "An ID card is already on the reader: take it away, then place yours"),
    "sscard": ("读卡口内已有一张社会保障卡，请拔出后重新插入您的卡",
               "A card is already in the slot: take it out, then insert yours"),
}


class IdentifyScreen(KioskScreen):
    how_zh = StringProperty("")
    how_en = StringProperty("")
    keyed = BooleanProperty(False)  # the item also accepts an ID number keyed in
    keypad_shown = BooleanProperty(False)
    idcard = BooleanProperty(True)  # the item accepts the ID card: its picture is shown
    sscard = BooleanProperty(False)
    lift_zh = StringProperty("")  # a card left from before: take it away first
    lift_en = StringProperty("")
    scan_offered = BooleanProperty(False)  # 扫码核验 (电子社保卡 / 电子身份证) beside the cards
    scan_card_only = BooleanProperty(False)  # a scanner is fitted, but this item needs the card itself
    scan_down_zh = StringProperty("")  # the scanner is fitted and down: why 扫码核验 cannot be used now
    scan_down_en = StringProperty("")

    @property
    def instruction(self):  # type: ignore[override]
        if self.lift_zh:
            return (self.lift_zh, self.lift_en)
        return (self.how_zh.split("\n")[0], self.how_en.split("\n")[0]) if self.how_zh else _METHODS["idcard"]

    def refresh(self) -> None:
        item = self.journey.item
        accepted = [m for m in (item.identify if item else []) if m in _METHODS]
        self.how_zh = "\n".join(_METHODS[m][0] for m in accepted)
        self.how_en = "\n".join(_METHODS[m][1] for m in accepted)
        self.idcard, self.sscard = "idcard" in accepted, "sscard" in accepted
        self.keyed = bool(item and "keyed" in item.identify)
        lift = self.journey.cards_to_lift() if self.journey.state == "identify" else ()
        was_lifting = bool(self.lift_zh)
        self.lift_zh = "\n".join(_LIFT[m][0] for m in lift)
        self.lift_en = "\n".join(_LIFT[m][1] for m in lift)
        if self.lift_zh and not was_lifting and self.manager is not None and self.manager.current == self.name:
            self.app.speak(self.lift_zh, self.lift_en)
        if not self.keypad_shown:
            self.ids.keyed_box.clear_widgets()
        devices = self.journey.ports.devices
        fitted = bool(item) and devices.fitted("scanner")
        self.scan_offered = fitted and self.journey.scan_offered()
        self.scan_card_only = fitted and not self.scan_offered and bool(accepted)
        down = devices.unavailable_reason(["scanner"]) if self.scan_offered else None
        self.scan_down_zh, self.scan_down_en = down or ("", "")

    def start_scan(self) -> None:
        """扫码核验: the journey's scan step (its own screen) waits for the code on the phone."""
        try:
            self.journey.start_scan()
        except KioskError as e:
            self.app.say(e.message_zh, e.message_en, "error")

    def on_device_event(self, event) -> None:
        super().on_device_event(event)
        if event.device == "scanner":
            self.refresh()

    def on_pre_enter(self, *args):
        self.keypad_shown = False
        self.lift_zh = self.lift_en = ""
        super().on_pre_enter(*args)

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
        self.ids.idcard_picture.start()
        self.ids.sscard_picture.start()

    def on_leave(self, *args):
        self.ids.idcard_picture.stop()
        self.ids.sscard_picture.stop()
