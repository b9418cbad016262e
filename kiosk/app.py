"""The Kivy application: window, chrome, navigator, idle countdown and the device bridge.

Views only. Device events arrive on hub threads and are handed to the journey on the Kivy
thread; blocking calls go through ``UiWorker``. Call ``kiosk.kivy_setup.configure_kivy``
before importing this module.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.core.text import LabelBase
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.metrics import dp, sp
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.floatlayout import FloatLayout

from kiosk.app_options import AppOptions
from kiosk.bootstrap import Kiosk
from kiosk.errors import KioskError
from kiosk.fonts import cjk_font_path
from kiosk.hardware.base import DeviceEvent
from kiosk.heap import IdleSettler
from kiosk.heap import tune as tune_collector
from kiosk.i18n import normalise, say_in
from kiosk.kivy_setup import fresh_label_textures, guard_kv_handlers, sleep_hidden_screens
from kiosk.screens.navigator import Navigator
from kiosk.screens.worker import UiWorker, WriteBehind
from kiosk.services.steps import current_step, steps_for
from kiosk.voice import Voice
from kiosk.widgets import icons
from kiosk.widgets.theme import COLOURS, ELDER, STANDARD, Sizes, hex_rgba

guard_kv_handlers()  # before any widget exists: see its docstring
fresh_label_textures()  # before any label exists: see its docstring
sleep_hidden_screens()  # likewise

log = logging.getLogger(__name__)


class UiTheme:
    """Theme tokens in Kivy units. The app swaps the whole object to switch elder mode,
    which re-evaluates every kv rule that reads ``app.theme``: at once on the screen shown,
    when it is next shown on the others (``kiosk.kivy_setup.sleep_hidden_screens``)."""

    def __init__(self, sizes: Sizes, elder: bool) -> None:
        self.sizes = sizes
        self.elder = elder

    def dp(self, name: str) -> float:
        return dp(getattr(self.sizes, name))

    def sp(self, name: str) -> float:
        return sp(getattr(self.sizes, name))

    def colour(self, key: str) -> str:
        return COLOURS[key]


ADMIN_CORNER_DP = 110  # the hidden gesture: hold the top-left corner...
ADMIN_HOLD_S = 3.0  # ...this long


class KioskRoot(FloatLayout):
    """The window's root. Watches for the technicians' hidden gesture (a long press in the
    top-left corner); every other touch goes to the screens as usual."""

    _hold = None

    def on_touch_down(self, touch):
        App.get_running_app().touched()
        if touch.x <= dp(ADMIN_CORNER_DP) and touch.y >= self.top - dp(ADMIN_CORNER_DP):
            self._hold = Clock.schedule_once(lambda _dt: App.get_running_app().open_admin(), ADMIN_HOLD_S)
        return super().on_touch_down(touch)

    def on_touch_up(self, touch):
        if self._hold is not None:
            self._hold.cancel()
            self._hold = None
        return super().on_touch_up(touch)


class KioskApp(App):
    theme = ObjectProperty(None)
    busy = BooleanProperty(False)
    online = BooleanProperty(True)
    clock_text = StringProperty("")
    idle_left = NumericProperty(0)  # seconds left when the idle warning is up, else 0
    message_zh = StringProperty("")  # a passing message on the current screen (errors, hints)
    message_en = StringProperty("")
    message_level = StringProperty("info")
    #: a notice on the idle screen, sent from the fleet console (empty: none)
    notice_zh = StringProperty("")
    notice_en = StringProperty("")
    muted = BooleanProperty(False)
    #: the language on the big line of every label ("zh" | "en"); the session's locale follows it
    lang = StringProperty("zh")
    #: the footer offers the reviewers' simulator panel
    has_simulator = BooleanProperty(False)
    #: the step indicator: the item's steps as (zh, en), and the one on screen (-1: none)
    step_labels = ListProperty([])
    step_now = NumericProperty(-1)

    def __init__(self, kiosk: Kiosk, options: AppOptions | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.kiosk = kiosk
        self.options = options or AppOptions()
        self.has_simulator = self.options.simulator is not None and kiosk.config.ui.simulator_panel
        self.title = kiosk.config.terminal.name
        self.theme = UiTheme(ELDER if kiosk.config.ui.elder_mode_default else STANDARD,
                             kiosk.config.ui.elder_mode_default)
        self.worker = UiWorker(on_busy=lambda b: setattr(self, "busy", b))
        self.writes = WriteBehind()  # the rating's fsync: never on a tap, never dropped at stop
        kiosk.journey.ports.write_behind = self.writes
        ui = kiosk.config.ui
        self.voice = Voice(enabled=ui.voice, output=ui.voice_output, folder=kiosk.config.data_dir / "voice")
        self.navigator: Navigator | None = None
        self.last_touch = time.monotonic()
        self.heap = IdleSettler()  # full garbage collections while idle at home, not mid-touch
        self._journey_state = kiosk.journey.state
        self.first_frame_at: float | None = None
        self.all_built = False  # every screen built ahead of its first visit (see _build_ahead)
        self.lang = normalise(kiosk.journey.session.locale)

    # --- building ---------------------------------------------------------------------------

    def build(self):
        LabelBase.register(name="Roboto", fn_regular=str(cjk_font_path()))  # every label: CJK
        LabelBase.register(name=icons.FONT_NAME, fn_regular=str(icons.ICON_FONT))
        Builder.load_file(str(Path(__file__).with_name("app.kv")))
        import kiosk.widgets.common  # noqa: F401 - loads the widgets' kv rules

        Window.clearcolor = hex_rgba(COLOURS["background"])  # the whole window's background
        Window.bind(on_request_close=lambda *_: True)  # no way out but the admin screen
        Window.bind(on_keyboard=self._on_keyboard)
        root = KioskRoot()
        self.navigator = Navigator(root.ids.sm, on_show=self._screen_shown)
        self.kiosk.journey.subscribe(self._journey_changed)
        self.navigator.go("home")
        return root

    def on_start(self) -> None:
        self.voice.start()
        self.kiosk.on_notice(lambda zh, en: Clock.schedule_once(lambda _dt: self._set_notice(zh, en), 0))
        self.notice_zh, self.notice_en = self.kiosk.notice
        self.kiosk.start(sink=self._device_event, on_online_change=self._online_change)
        Clock.schedule_interval(self._tick, 1.0)
        self._tick(0)
        Window.bind(on_flip=self._on_flip)
        from kiosk.watchdog import install as install_watchdog

        install_watchdog(self)  # READY / WATCHDOG / STATUS to systemd, only under a notify unit

    def _on_flip(self, *_args) -> None:
        """The first frame of the home screen is on screen: the start-up figure ends here."""
        if self.navigator is None or self.navigator.current not in ("home", "closed"):
            return
        from kivy.graphics.opengl import glFinish

        glFinish()  # offscreen, a swap returns before the frame is really rasterised
        self.first_frame_at = time.time()
        Window.unbind(on_flip=self._on_flip)
        log.info("serving: the first %s frame is drawn", self.navigator.current)
        # the start-up heap, settled before anyone can touch the screen (see kiosk.heap)
        self.heap.settle_now()
        tune_collector()
        if self.options.on_first_frame is not None:
            self.options.on_first_frame(self, self.first_frame_at)

    def _visit_over(self, *_args) -> None:
        Window.unbind(on_flip=self._visit_over)
        self.heap.visit_over()

    def on_stop(self) -> None:
        started = time.monotonic()
        self.voice.stop()
        self.worker.shutdown(timeout_s=2.0)  # a print under way finishes; a hung call is left
        self.writes.drain()  # every rating queued reaches the outbox before it closes
        self.kiosk.stop(timeout_s=2.0)
        log.info("stopped in %.1f s", time.monotonic() - started)

    # --- input and idle ---------------------------------------------------------------------

    def _on_keyboard(self, _window, key, *_args) -> bool:
        return key == 27  # Escape is swallowed: it must not close a kiosk

    def touched(self) -> None:
        self.last_touch = time.monotonic()
        self.heap.activity()
        if self.idle_left:
            self.idle_left = 0

    def keep_going(self) -> None:
        """The one large 继续办理 button of the idle warning."""
        self.touched()

    def _tick(self, _dt: float) -> None:
        self.clock_text = self.options.fixed_clock or time.strftime("%Y-%m-%d %H:%M")
        journey = self.kiosk.journey
        cfg = self.kiosk.config.session
        idle = time.monotonic() - self.last_touch
        if journey.state == "home":
            self.idle_left = 0
            if idle >= cfg.idle_timeout_s and not self._at_defaults():
                journey.end("timeout")  # 中文/大字版/category chosen by someone who walked away
            self._show_closed_or_home()
            at_home = self.navigator is not None and self.navigator.current in ("home", "closed")
            if at_home and idle >= self.heap.idle_s and self._build_ahead():
                return
            self.heap.tick(at_home, idle)
            return
        if journey.state == "farewell":
            self.idle_left = 0
            journey.settle_farewell()
            return
        timeout = cfg.rating_timeout_s if journey.state == "rating" else cfg.idle_timeout_s
        left = timeout - idle
        if left <= 0:
            self.idle_left = 0
            if journey.state == "rating":
                journey.rating_timed_out()
            else:
                journey.end("timeout")
        elif left <= cfg.idle_warning_s and journey.state != "rating":
            self.idle_left = int(left + 0.999)
        else:
            self.idle_left = 0

    def _build_ahead(self) -> bool:
        """Idle at home: build one more screen (one a second, so a touch waits for at most one);
        True while there was one to build. The idle pass then settles them with the rest."""
        if self.all_built or self.navigator is None:
            return False
        name = self.navigator.build_next()
        if name is None:
            self.all_built = True
            log.info("every screen built ahead")
            return False
        self.heap.activity()  # the idle pass waits until they are all built
        return True

    def _at_defaults(self) -> bool:
        """The idle home screen is as the terminal's config sets it (no one's choices left)."""
        session, cfg = self.kiosk.journey.session, self.kiosk.config
        return (session.locale == cfg.terminal.locale and session.elder_mode == cfg.ui.elder_mode_default
                and not session.category)

    def _show_closed_or_home(self) -> None:
        """At home, residents see 暂停服务 while closed; technicians' screens are left alone."""
        if self.navigator is None or self.navigator.current.startswith("admin"):
            return
        closed = self.kiosk.journey.closed_reason() is not None
        if closed and self.navigator.current != "closed":
            self.navigator.go("closed")
        elif not closed and self.navigator.current == "closed":
            self.navigator.go("home")

    # --- journey and devices ----------------------------------------------------------------

    def _journey_changed(self, journey) -> None:
        self.touched()
        if journey.state == "home" and self._journey_state != "home":
            Window.bind(on_flip=self._visit_over)  # once home is drawn (see kiosk.heap)
        self._journey_state = journey.state
        self.lang = normalise(journey.session.locale)
        if journey.session.elder_mode != self.theme.elder:  # a new session: the terminal's default
            self.theme = UiTheme(ELDER if journey.session.elder_mode else STANDARD, journey.session.elder_mode)
        self.say("", "")
        if self.navigator is not None:
            self.navigator.follow(journey)
            self._show_steps()

    def _device_event(self, event: DeviceEvent) -> None:
        """Hub threads call this; the journey only ever runs on the Kivy thread."""
        Clock.schedule_once(lambda _dt: self._handle_device_event(event), 0)

    def _handle_device_event(self, event: DeviceEvent) -> None:
        try:
            self.kiosk.journey.on_device_event(event)
        except KioskError as e:
            self.say(e.message_zh, e.message_en, "error")
        screen = self.navigator.manager.current_screen if self.navigator else None
        if screen is not None and hasattr(screen, "on_device_event"):
            screen.on_device_event(event)

    def _set_notice(self, zh: str, en: str) -> None:
        self.notice_zh, self.notice_en = zh, en

    def _online_change(self, online: bool) -> None:
        Clock.schedule_once(lambda _dt: self._set_online(online), 0)

    def _set_online(self, online: bool) -> None:
        self.online = online
        self.kiosk.journey.backend_online = online
        if self.navigator is not None and self.navigator.current == "home":
            self.navigator.manager.current_screen.refresh()

    # --- chrome actions ---------------------------------------------------------------------

    def say(self, zh: str, en: str, level: str = "info") -> None:
        """A message on the current screen; errors and warnings are spoken too."""
        self.message_zh, self.message_en, self.message_level = zh, en, level
        if zh and level in ("error", "warning", "success"):
            self.speak(zh, en)

    def speak(self, zh: str, en: str = "") -> None:
        self.voice.say(*say_in(zh, en, self.lang))

    def _show_steps(self) -> None:
        journey = self.kiosk.journey
        steps = steps_for(journey.item) if journey.state not in ("home", "farewell") else ()
        labels = [[s.zh, s.en] for s in steps]
        if labels != list(self.step_labels):
            self.step_labels = labels
        screen = self.navigator.current if self.navigator is not None else ""
        self.step_now = current_step(steps, journey.state, screen)

    def _screen_shown(self, screen) -> None:
        self._show_steps()
        zh, en = getattr(screen, "instruction", ("", ""))
        if zh:
            self.speak(zh, en)

    def toggle_mute(self) -> None:
        self.voice.muted = not self.voice.muted
        self.muted = self.voice.muted

    def open_help(self) -> None:
        from kiosk.widgets.help import HelpPanel

        screen = self.navigator.manager.current_screen if self.navigator else None
        HelpPanel(instruction=getattr(screen, "instruction", ("", ""))).open()

    def request_help(self) -> None:
        """帮办代办 from the help panel: staff call the resident back."""
        journey = self.kiosk.journey
        item = next((i for i in self.kiosk.catalogue.items if i.flow == "help_request"), None)
        if item is None:
            return
        if journey.state != "home":
            journey.end("help")
        try:
            journey.choose(item.id)
        except KioskError as e:
            self.say(e.message_zh, e.message_en, "error")

    def toggle_elder(self) -> None:
        elder = not self.theme.elder
        self.theme = UiTheme(ELDER if elder else STANDARD, elder)
        self.kiosk.journey.session.elder_mode = elder
        if self.navigator is not None:
            self.navigator.manager.current_screen.refresh()

    def toggle_lang(self) -> None:
        """中文/English: only the words change; the resident's session and screen stay as they are."""
        self.set_lang("en" if self.lang == "zh" else "zh")

    def set_lang(self, lang: str) -> None:
        lang = normalise(lang)
        if lang == self.lang:
            return
        self.lang = lang
        self.kiosk.journey.session.locale = "en" if lang == "en" else "zh_CN"
        self.touched()
        screen = self.navigator.manager.current_screen if self.navigator else None
        zh, en = getattr(screen, "instruction", ("", ""))
        if zh:
            self.speak(zh, en)  # the screen's prompt again, now in the language chosen

    def home(self) -> None:
        current = self.navigator.current if self.navigator is not None else ""
        if current == "admin":  # leaving maintenance is audited, and says whether service resumes
            self.navigator.manager.current_screen.leave("exit")
            return
        if current == "admin_pin":
            self.close_admin()
            return
        journey = self.kiosk.journey
        if journey.state == "farewell":
            if not journey.dismiss_farewell():  # a card is still in a reader: it must be taken
                self.speak(*self.navigator.manager.current_screen.instruction)
            return
        journey.end("cancelled")

    def open_simulator(self) -> None:
        if self.has_simulator and self.options.simulator is not None:
            self.options.simulator()

    def open_admin(self) -> None:
        """The hidden gesture: the PIN keypad (the resident's session, if any, is ended)."""
        if self.navigator is not None and self.navigator.current.startswith("admin"):
            return  # already there: a long press must not skip the sign-out
        if self.kiosk.journey.state != "home":
            self.kiosk.journey.end("admin")
        if self.navigator is not None:
            self.navigator.go("admin_pin")

    def close_admin(self) -> None:
        """Back from the technicians' screens to the resident's home (or 暂停服务)."""
        if self.navigator is not None:
            self.navigator.go("home")
            self._show_closed_or_home()
