"""终端维护: the technician's screen, one section at a time (devices, paper, service, upload,
journal, logs, config, diagnostics, restart).

A thin view over ``kiosk.admin.actions.AdminActions``: every action runs on the UI worker and
is audited there. The sections' contents are built in ``kiosk.screens.admin_sections``.

Leaving: the exit bar always says what the terminal will do afterwards. If it stays out of
service (the technician switched it off, or it was off before the session) the bar shows a
warning banner and offers 恢复服务并退出 beside the plain exit; otherwise it goes back into
service. After ``admin.idle_timeout_s`` without a touch the session ends by the same rule
and the screen returns home.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty

from kiosk.hardware.base import DeviceEvent, EventKind
from kiosk.screens import admin_sections as sections
from kiosk.screens.base import KioskScreen
from kiosk.widgets.common import BigButton

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

#: section key -> (zh, en, builder)
SECTIONS: dict[str, tuple[str, str, Callable[[Any], None]]] = {
    "devices": ("设备", "Devices", sections.devices),
    "paper": ("纸张", "Paper", sections.paper),
    "service": ("服务开关", "Service", sections.service),
    "outbox": ("数据上传", "Upload", sections.outbox),
    "journal": ("交易流水", "Journal", sections.journal),
    "logs": ("日志", "Logs", sections.logs),
    "config": ("配置", "Config", sections.config),
    "diagnostics": ("诊断导出", "Diagnostics", sections.diagnostics),
    "restart": ("重启", "Restart", sections.restart),
}


class AdminScreen(KioskScreen):
    instruction = ("终端维护", "Terminal maintenance")
    section = StringProperty("devices")
    message_zh = StringProperty("")
    message_en = StringProperty("")
    message_level = StringProperty("info")
    in_service = BooleanProperty(False)  # residents are served right now
    stays_closed = BooleanProperty(False)  # leaving now would leave the terminal out of service
    working = BooleanProperty(False)  # an action is on the worker

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._ticker = None
        self._leaving = False
        self._refresh_later = Clock.create_trigger(lambda _dt: self.show(self.section), 0.3)
        self.state: dict[str, Any] = {}  # per-section view state (journal filters, confirmations)

    @property
    def actions(self):
        """The technician actions, built by the PIN screen on the worker before this screen."""
        return self.app.navigator.screen("admin_pin").actions

    # --- life cycle ---------------------------------------------------------------------------

    def on_pre_enter(self, *args):
        self._leaving = False
        self.state.clear()
        self._build_tabs()
        self.say("", "")
        self.show("devices")

    def on_enter(self, *args):
        self._ticker = Clock.schedule_interval(self._tick, 1.0)

    def on_leave(self, *args):
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        self.ids.content.clear_widgets()  # journal rows must not stay in memory behind home

    def refresh(self) -> None:
        self.update_service_state()

    def _tick(self, _dt: float) -> None:
        self.update_service_state()
        idle = time.monotonic() - self.app.last_touch
        if idle > self.app.kiosk.config.admin.idle_timeout_s and not self._leaving:
            self.leave("idle")

    def update_service_state(self) -> None:
        actions = self.actions
        if actions is None:
            return
        self.in_service = not self.app.kiosk.journey.maintenance
        self.stays_closed = not actions.in_service_after_logout()

    # --- sections -----------------------------------------------------------------------------

    def _build_tabs(self) -> None:
        tabs = self.ids.tabs
        tabs.clear_widgets()
        for key, (zh, en, _build) in SECTIONS.items():
            button = BigButton(zh=zh, en=en, kind="primary" if key == self.section else "secondary")
            button.section = key
            button.bind(on_release=lambda b: self.show(b.section))
            tabs.add_widget(button)

    def show(self, key: str) -> None:
        if key != self.section:
            self.state.pop("confirm", None)
        self.section = key
        for button in self.ids.tabs.children:
            button.kind = "primary" if button.section == key else "secondary"
        box = self.ids.content
        box.clear_widgets()
        scroll = self.ids.scroll
        scroll.effect_y.cancel()
        scroll.scroll_y = 1  # every section opens at its top
        SECTIONS[key][2](self)
        self.update_service_state()

    # --- running actions ----------------------------------------------------------------------

    def run(
        self,
        fn: Callable[[], Any],
        done: Callable[[Any], None] | None = None,
        *,
        busy: tuple[str, str] = ("正在处理…", "Working…"),
        ok: tuple[str, str] | None = None,
    ) -> None:
        """Run ``fn`` on the worker; say ``ok`` (or the error) when it ends."""
        self.working = True
        self.say(*busy)

        def finished(result: Any) -> None:
            self.working = False
            if ok is not None:
                self.say(*ok, level="success")
            elif self.message_zh == busy[0]:
                self.say("", "")
            if done is not None:
                done(result)
            self.update_service_state()

        def failed(error) -> None:
            self.working = False
            self.say(f"{error.message_zh}：{error}", error.message_en, "error")
            self.update_service_state()

        self.app.worker.submit(fn, finished, failed)

    def say(self, zh: str, en: str, level: str = "info") -> None:
        self.message_zh, self.message_en, self.message_level = zh, en, level

    def on_device_event(self, event: DeviceEvent) -> None:
        actions = self.actions
        if actions is not None:
            actions.offer_event(event)
        if event.kind in (EventKind.STATUS, EventKind.PAPER, EventKind.ERROR) and self.section in ("devices", "paper"):
            self._refresh_later()

    # --- leaving ------------------------------------------------------------------------------

    def leave(self, reason: str = "exit", reopen: bool = False) -> None:
        """End the session: back home, in or out of service as the module docstring says."""
        if self._leaving:
            return
        self._leaving = True
        actions = self.actions

        def work() -> bool:
            if reopen:
                actions.set_in_service(True)
            return actions.logout(reason)

        def done(_in_service: bool) -> None:
            self.app.close_admin()

        def failed(error) -> None:  # the audit could not be written: leave all the same
            self.say(error.message_zh, error.message_en, "error")
            self.app.close_admin()

        self.app.worker.submit(work, done, failed)
