"""核验身份: place the ID card on the reader (or insert the social-security card)."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import StringProperty

from kiosk.errors import KioskError
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

    def refresh(self) -> None:
        item = self.journey.item
        accepted = [m for m in (item.identify if item else []) if m in _METHODS]
        self.how_zh = "\n".join(_METHODS[m][0] for m in accepted)
        self.how_en = "\n".join(_METHODS[m][1] for m in accepted)

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
