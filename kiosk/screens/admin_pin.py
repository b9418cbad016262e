"""维护登录: the technicians' PIN on a large keypad, digits shown as dots.

Reached by the hidden gesture (a 3 s hold in the top-left corner). A wrong PIN says how many
tries are left; too many lock the entry until a time it shows (the lock-out is kept on disk,
see ``kiosk.admin.pin``). The check (scrypt) and the audit row run on the UI worker. On
success the terminal goes out of service and the admin screen opens. Nobody touching the
screen for a minute sends it back home: residents may trigger the gesture by accident.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty

import kiosk.widgets.keypad  # noqa: F401 - loads the keypad's kv rule
from kiosk.screens.base import KioskScreen

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

PIN_IDLE_S = 60.0


def lockout_text(until: float) -> tuple[str, str]:
    end = dt.datetime.fromtimestamp(until)
    fmt = "%H:%M" if end.date() == dt.date.today() else "%m-%d %H:%M"
    return (
        f"错误次数过多，维护入口已锁定，{end.strftime(fmt)} 后可再试",
        f"Too many wrong PINs: locked until {end.strftime(fmt)}",
    )


class AdminPinScreen(KioskScreen):
    instruction = ("请输入维护密码", "Enter the maintenance PIN")
    message_zh = StringProperty("")
    message_en = StringProperty("")
    message_level = StringProperty("info")
    locked = BooleanProperty(False)
    checking = BooleanProperty(False)
    no_pin = BooleanProperty(False)  # the config sets no PIN: said at once, nothing to type

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.gate = None  # kiosk.admin.pin.PinGate, built on the worker (it opens SQLite)
        self.actions = None  # kiosk.admin.actions.AdminActions, shared with the admin screen
        self._locked_until = 0.0
        self._ticker = None

    # --- life cycle ---------------------------------------------------------------------------

    def on_pre_enter(self, *args):
        self.ids.keypad.clear()
        self.say("", "")
        self.app.worker.submit(self._open, self._opened, self._failed)

    def on_enter(self, *args):
        self._ticker = Clock.schedule_interval(self._tick, 1.0)

    def on_leave(self, *args):
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        self.ids.keypad.clear()

    def _opened(self, until: float | None) -> None:
        self.no_pin = not self.gate.pin_set
        if self.no_pin:
            self.say("本终端未设置维护密码，无法进入维护界面（请用 kiosk set-admin-pin 设置）",
                     "No maintenance PIN is set on this terminal (set one with kiosk set-admin-pin)", "error")
            return
        self._show_lock(until)

    def _open(self):
        """Worker: build the gate and the actions once; return when the lock-out ends."""
        if self.gate is None:
            from kiosk.admin.actions import AdminActions
            from kiosk.admin.logs import install_log_ring
            from kiosk.admin.pin import PinGate

            install_log_ring()  # no-op when start-up installed it already (it should)
            kiosk = self.app.kiosk
            self.gate = PinGate(kiosk.config.admin, kiosk.config.data_dir)
            self.actions = AdminActions(kiosk)
        return self.gate.locked_until()

    def _tick(self, _dt: float) -> None:
        if self.locked and time.time() >= self._locked_until:
            self.locked = False
            self.say("维护入口已解锁，请输入密码", "Unlocked: enter the PIN")
        if time.monotonic() - self.app.last_touch > PIN_IDLE_S and not self.checking:
            self.cancel()

    # --- the PIN ------------------------------------------------------------------------------

    def submit(self, pin: str) -> None:
        if self.checking or self.locked:
            return
        self.ids.keypad.clear()  # the digits never stay on screen, even as dots
        self.checking = True
        self.say("正在验证…", "Checking…")

        def check():
            self._open()
            result = self.gate.check(pin)
            self.actions.login(result.kind, result.attempts_left)
            return result

        self.app.worker.submit(check, self._checked, self._failed)

    def _checked(self, result) -> None:
        self.checking = False
        if result.kind == "ok":
            self.say("", "")
            self.app.navigator.go("admin")
        elif result.kind == "wrong":
            self.say(f"密码错误，还可尝试 {result.attempts_left} 次",
                     f"Wrong PIN: {result.attempts_left} attempt(s) left", "error")
        elif result.kind == "locked":
            self._show_lock(result.until)
        else:
            self.say("本终端未设置维护密码（kiosk set-admin-pin）", "No maintenance PIN is set (kiosk set-admin-pin)",
                     "error")

    def _show_lock(self, until: float | None) -> None:
        if until:
            self._locked_until = until
            self.locked = True
            self.say(*lockout_text(until), "error")

    def _failed(self, error) -> None:
        self.checking = False
        self.say(error.message_zh, error.message_en, "error")

    def say(self, zh: str, en: str, level: str = "info") -> None:
        self.message_zh, self.message_en, self.message_level = zh, en, level

    def cancel(self) -> None:
        self.app.close_admin()
