"""The one navigator: maps the journey's state to a screen and switches to it.

Screens are registered by name and built on first use (their module loads its kv file once),
or ahead of it while the terminal sits idle at home (``build_next``).
Nothing else changes the current screen, so the UI can never disagree with the journey.
"""

from __future__ import annotations

import importlib
import logging

from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.kivy_setup import put_to_sleep, wake

log = logging.getLogger(__name__)

#: screen name -> "module:Class"
SCREENS: dict[str, str] = {
    "home": "kiosk.screens.home:HomeScreen",
    "guide": "kiosk.screens.guide:GuideScreen",
    "identify": "kiosk.screens.identify:IdentifyScreen",
    "scan_identify": "kiosk.screens.scan_identify:ScanIdentifyScreen",
    "record": "kiosk.screens.record:RecordScreen",
    "result": "kiosk.screens.result:ResultScreen",
    "rating": "kiosk.screens.rating:RatingScreen",
    "farewell": "kiosk.screens.farewell:FarewellScreen",
    "closed": "kiosk.screens.closed:ClosedScreen",
    # 查询 / 证明打印
    "query": "kiosk.screens.query:QueryScreen",
    # 缴费
    "payment_account": "kiosk.screens.payment_account:PaymentAccountScreen",
    "payment_confirm": "kiosk.screens.payment_confirm:PaymentConfirmScreen",
    "payment_qr": "kiosk.screens.payment_qr:PaymentQrScreen",
    "payment_code": "kiosk.screens.payment_code:PaymentCodeScreen",
    # 社保卡服务
    "card_service": "kiosk.screens.card_service:CardServiceScreen",
    "card_pin": "kiosk.screens.card_pin:CardPinScreen",
    # 帮办代办, 政务服务地图
    "help_request": "kiosk.screens.help_request:HelpRequestScreen",
    "service_map": "kiosk.screens.service_map:ServiceMapScreen",
    # 24-hour 自助申办, 办件进度查询
    "apply_form": "kiosk.screens.apply_form:ApplyFormScreen",
    "apply_materials": "kiosk.screens.apply_materials:ApplyMaterialsScreen",
    "apply_sign": "kiosk.screens.apply_sign:ApplySignScreen",
    "progress": "kiosk.screens.progress:ProgressScreen",
    "admin_pin": "kiosk.screens.admin_pin:AdminPinScreen",
    "admin": "kiosk.screens.admin:AdminScreen",
}

#: flow name -> the screen that shows its steps
FLOW_SCREENS: dict[str, str] = {
    "contribution_certificate": "record",
    "rights_record": "query",
    "benefit_certificate": "query",
    "medical_certificate": "query",
    "medical_settlement": "query",
    "insurance_query": "query",
    "contribution_history": "query",
    "medical_account": "query",
    "resident_pension_query": "query",
    "utility_payment": "payment_account",
    "resident_pension_payment": "payment_confirm",
    "resident_medical_payment": "payment_confirm",
    "flexible_pension_payment": "payment_confirm",
    "card_loss": "card_service",
    "card_status": "card_service",
    "card_pin_change": "card_pin",
    "help_request": "help_request",
    "service_map": "service_map",
    "application": "apply_form",
    "application_progress": "progress",
}


class ScreenStack(ScreenManager):
    """The screens' place in the window: a ScreenManager without Kivy's stencil.

    Kivy's own rule for a ScreenManager masks its area with the stencil buffer (two fills of
    the whole area per frame, and a stencil test on every pixel drawn inside), so that a screen
    sliding in stays inside it. The kiosk switches screens without a transition and lays each
    screen out inside the manager, so there is nothing to mask: ``app.kv`` drops that rule
    (``<-ScreenStack>``). On a software renderer this and the root's second background were a
    quarter of the home screen's frame (52 -> 38-40 ms redrawn, 1080x1920).
    """


class Navigator:
    def __init__(self, manager: ScreenManager, on_show=None) -> None:
        self.manager = manager
        self.manager.transition = NoTransition()
        self.on_show = on_show  # called with each screen shown (voice prompt, help text)
        self._failed_ahead: set[str] = set()  # screens build_next could not build

    @property
    def current(self) -> str:
        return self.manager.current

    def screen(self, name: str):
        if not self.manager.has_screen(name):
            module, cls = SCREENS[name].split(":")
            widget = getattr(importlib.import_module(module), cls)(name=name)
            # keep a never-shown screen where the manager is, or its first frame lands at (0, 0)
            widget.pos, widget.size = self.manager.pos, self.manager.size
            self.manager.add_widget(widget)
            if self.manager.current_screen is not widget:
                put_to_sleep(widget)  # until shown: see kiosk.kivy_setup.sleep_hidden_screens
        return self.manager.get_screen(name)

    def build_next(self, skip: tuple[str, ...] = ("admin", "admin_pin")) -> str | None:
        """Build one screen not built yet (the app calls it while the terminal sits idle at
        home, so a resident's first visit of a screen costs what a later one does). Returns its
        name, or None when every screen is built. A screen that fails is tried again only on
        its visit."""
        for name in SCREENS:
            if name in skip or name in self._failed_ahead or self.manager.has_screen(name):
                continue
            try:
                self.screen(name)
            except Exception:  # noqa: BLE001 - a screen that cannot be built now is built on its visit
                log.exception("screen %s could not be built ahead", name)
                self._failed_ahead.add(name)
                continue
            return name
        return None

    def go(self, name: str) -> None:
        screen = self.screen(name)
        wake(screen)  # what a 大字版 or language switch changed while it was hidden, before it is shown
        if self.manager.current == name:
            screen.refresh()
        else:
            shown = self.manager.current_screen
            self.manager.current = name
            if shown is not None:
                put_to_sleep(shown)
            if self.on_show is not None:
                self.on_show(screen)
        log.debug("screen %s", name)

    def follow(self, journey) -> None:
        """Show the screen for the journey's state (subscribed to the journey)."""
        state = journey.state
        if state == "identify" and getattr(journey, "scanning", False):
            self.go("scan_identify")  # 扫码核验: the identify step's own screen
        elif state == "item":
            flow = journey.item.flow if journey.item else ""
            self.go(FLOW_SCREENS.get(flow or "", "result"))
        else:
            self.go(state)
