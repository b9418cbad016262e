"""扫码核验: the resident holds the 电子社保卡 or 电子身份证 QR code on the phone to the scanner.

Shown while the journey is in its identify step with ``scanning`` set (the resident chose
扫码核验 on the identify screen). A code the journey takes (``accept_scan``: only one scanned
after 扫码核验 was chosen) is resolved by the backend on the worker; the answer identifies the
resident if the same session is still waiting for it. A refused code says what to do next
(refresh it in the app); 改用证件 goes back to the cards. The code itself is never shown.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty

import kiosk.widgets.scan_picture  # noqa: F401 - ScanPicture in the kv rule
from kiosk.errors import KioskError
from kiosk.hardware.base import EventKind
from kiosk.screens.base import KioskScreen
from kiosk.services.scan_identify import identity_from_code

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

ASK = ("请打开电子社保卡或电子身份证二维码，对准下方扫码窗口",
       "Open the QR code of your electronic social security card or ID and hold it to the scanner window")


class ScanIdentifyScreen(KioskScreen):
    instruction = ASK
    working = BooleanProperty(False)  # a code is being checked with the platform
    error_zh = StringProperty("")  # why the last code did not identify, and what to do
    error_en = StringProperty("")
    down_zh = StringProperty("")  # the scanner is not usable now
    down_en = StringProperty("")

    _asked_for = ""  # the session reference the code in flight belongs to

    def refresh(self) -> None:
        reason = self.journey.ports.devices.unavailable_reason(["scanner"])
        self.down_zh, self.down_en = reason or ("", "")

    def on_pre_enter(self, *args):
        self.working = False
        self.error_zh = self.error_en = ""
        super().on_pre_enter(*args)

    def on_enter(self, *args):
        self.ids.picture.start()

    def on_leave(self, *args):
        self.ids.picture.stop()

    def on_device_event(self, event) -> None:
        super().on_device_event(event)
        if event.device != "scanner":
            return
        if event.kind is EventKind.STATUS:
            self.refresh()
            return
        code = self.journey.accept_scan(event)
        if code is None or self.working:
            return  # not for this step, or one code at a time
        self.app.touched()
        self.working = True
        self.error_zh = self.error_en = ""
        journey = self.journey
        reference, key = journey.session.reference, journey.next_scan_key()
        self._asked_for = reference
        backend = journey.ports.backend
        self.app.worker.submit(lambda: identity_from_code(backend, code, key),
                               lambda who: self._resolved(who, reference), self._refused)

    def _resolved(self, who, reference: str) -> None:
        self.working = False
        journey = self.journey
        if journey.session.reference != reference or journey.state != "identify" or not journey.scanning:
            return  # the visit moved on while the platform answered: this identity is dropped
        try:
            journey.identify(who, "scan")
        except KioskError as e:
            self._refused(e)

    def _refused(self, error: KioskError) -> None:
        self.working = False
        if self.journey.session.reference != self._asked_for:
            return
        self.error_zh, self.error_en = error.message_zh, error.message_en
        self.app.speak(error.message_zh, error.message_en)  # shown in the screen's own banner

    def use_a_card(self) -> None:
        """改用证件: back to the cards (and the keypad, where the item takes one)."""
        self.journey.stop_scan()
