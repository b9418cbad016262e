"""Kivy's process-wide settings, which must be made before ``import kivy``.

Kept out of ``kiosk.app`` so the commands can call it first. No kivy import at module level.

Kivy imported any earlier installs its own console handler on the root logger (every line
twice) and reads its home and log level before these settings exist, so ``configure_kivy``
refuses to run after it. Kivy's INFO lines (its version, providers, GL details) say nothing
to a technician: it logs at WARNING unless the root logger is at DEBUG (``[logging] level``
or ``KIOSK_LOG_DEBUG=1``, see ``kiosk.logsetup``); call ``configure_logging`` first.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any


def configure_kivy(*, width: int, height: int, fullscreen: bool, headless: bool, home: Path,
                   scale: float = 1.0) -> None:
    """Environment and config for a kiosk window. Call once, before importing kivy. ``scale``
    is pixels per dp (``[ui] scale``): every size in the screens is in dp, so a panel of the
    kiosk's shape at ``scale`` x 1080 pixels wide shows the same layout."""
    if "kivy" in sys.modules:
        raise RuntimeError("kivy was imported before configure_kivy(): import it only afterwards")
    detail = logging.getLogger().getEffectiveLevel() <= logging.DEBUG
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")  # Kivy logs through logging, like the rest
    # SDL turns SIGINT/SIGTERM into a window-close request, which a kiosk refuses: then
    # neither systemctl stop nor Ctrl-C could stop it. The app installs its own handlers.
    os.environ["SDL_NO_SIGNAL_HANDLERS"] = "1"
    os.environ.setdefault("KCFG_KIVY_LOG_LEVEL", "debug" if detail else "warning")  # read at import
    # every Kivy setting is made here from kiosk.toml: no config.ini in KIVY_HOME to read, write
    # or upgrade (an upgrade is two warnings on every fresh data folder)
    os.environ.setdefault("KIVY_NO_CONFIG", "1")
    home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("KIVY_HOME", str(home))
    os.environ["KIVY_METRICS_DENSITY"] = repr(float(scale))  # read by kivy.metrics; the config decides
    if headless or not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ["SDL_VIDEODRIVER"] = "offscreen"
        fullscreen = False

    from kivy.config import Config  # noqa: PLC0415 - must follow the environment above

    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "borderless", "1" if fullscreen else "0")
    Config.set("graphics", "resizable", "0")
    # 2x multisampling doubled frame time and memory on llvmpipe for no visible gain here
    Config.set("graphics", "multisamples", "0")
    Config.set("graphics", "show_cursor", "0" if fullscreen else "1")
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")


def guard_kv_handlers() -> None:
    """A kv rule whose widget has just died must not take the app down with it; a kv rule of a
    screen that sleeps (see ``sleep_hidden_screens``) waits for the screen to be shown.

    Kivy runs a kv binding (``color: rgba((app.theme).colour("text"))``) through a weak proxy
    of the widget it sets. A widget that dies in the middle of a dispatch (a list rebuilt by an
    earlier observer of the same property, collected before its destructor unbinds it) leaves
    a proxy that raises ``ReferenceError``: Kivy already ignores that for its delayed (canvas)
    bindings in ``Builder.sync``, not for the immediate ones, where it aborts the whole
    dispatch: switching to 大字版 after some screens crashed the kiosk. The immediate path gets
    the same treatment, and says which rule it was at DEBUG.

    The function replaces Kivy's ``kivy.lang.builder.call_fn`` (every kv binding and
    ``Builder.sync`` call it): the same three steps, without the two trace lines Kivy formats on
    every call whether or not anyone logs at TRACE (a third of its time on a 大字版 switch).
    Call after importing kivy, before any widget is made (a binding keeps the function it was
    made with).
    """
    from kivy.lang import builder  # noqa: PLC0415 - kivy must be configured first

    if getattr(builder.call_fn, "kiosk_guarded", False):
        return

    def call_fn(args, instance, value):
        # args: (element, key, compiled value, rule, idmap) as kivy.lang.builder makes them;
        # idmap["self"] is the widget whose rule it is (element may be a canvas instruction)
        try:
            if _sleeping:
                screen = _asleep_screen(args[4].get("self"))
                if screen is not None:
                    screen.kiosk_pending[(id(args[0]), args[1])] = args[:5]
                    return
            element, key, expression, rule, idmap = args[:5]
            rule.count += 1
            setattr(element, key, eval(expression, idmap))  # noqa: S307 - Kivy's compiled kv rule
        except ReferenceError:
            rule = args[3]
            logging.getLogger(__name__).debug("kv rule outlived its widget: %s:%s %s",
                                              rule.ctx.filename, rule.line, args[1])

    call_fn.kiosk_guarded = True  # type: ignore[attr-defined]
    builder.call_fn = call_fn


def fresh_label_textures() -> None:
    """A label whose text is drawn again gets a new texture instead of overwriting the one the
    last frames drew (same pixels either way).

    Kivy refills a label's texture in place when its size is unchanged (a step of the step bar
    turning bold, a heading switching language). With a software renderer (Mesa llvmpipe, a
    terminal without a GPU) writing into a texture that frames still queued for drawing read
    waits for those frames to be rasterised first: measured 50-590 ms inside one tap on the
    development machine, for a 204x28 label. A new texture waits for nothing; the old one is
    freed once no frame uses it. Call after importing kivy, before any label is made.
    """
    from kivy.core.text import LabelBase  # noqa: PLC0415 - kivy must be configured first

    original = LabelBase.refresh
    if getattr(original, "kiosk_fresh", False):
        return

    def refresh(self) -> None:
        self.texture = None  # LabelBase.refresh then makes a new one of the size needed
        original(self)

    refresh.kiosk_fresh = True  # type: ignore[attr-defined]
    LabelBase.refresh = refresh


_sleeping = False  # sleep_hidden_screens() was called
_stale_labels: Any = None  # WeakSet of labels whose texture waits for their screen to be shown


def sleep_hidden_screens() -> None:
    """A screen that is not shown sleeps: its kv rules and its labels' text wait until the
    navigator wakes it, just before it is shown (``put_to_sleep`` / ``wake``).

    A 大字版 or language switch changes ``app.theme`` or ``app.lang``, which every kv rule of
    every screen built reads: on a terminal that has served for a while (or built its screens
    ahead while idle) that was every rule of 24 screens re-run, each size it set re-laid out and
    each label's text rasterised again, though only the shown screen is seen (12.7x the floor's
    tap for 大字版 on with every screen built). Now, while a screen sleeps, a kv rule of one of
    its widgets that should run is kept, the latest per widget property, and a label that has
    been drawn before and would draw its text again is marked stale; ``wake`` runs the kept
    rules and draws the stale labels before the screen's first frame, so the layout has their
    new values. A widget that is not on a sleeping screen (a panel, the header and footer, a
    screen being built) runs its rules as before. Call after ``guard_kv_handlers`` (whose
    ``call_fn`` keeps the rules), before any label is made.
    """
    global _sleeping, _stale_labels
    from weakref import WeakSet  # noqa: PLC0415

    from kivy.uix.label import Label  # noqa: PLC0415 - kivy must be configured first

    _sleeping = True
    original = Label.texture_update
    if getattr(original, "kiosk_deferred", False):
        return
    _stale_labels = WeakSet()

    def texture_update(self, *largs) -> None:
        if self.texture is not None and _asleep_screen(self) is not None:
            _stale_labels.add(self)
            return
        original(self, *largs)

    texture_update.kiosk_deferred = True  # type: ignore[attr-defined]
    texture_update.original = original  # type: ignore[attr-defined]
    Label.texture_update = texture_update


def _asleep_screen(widget: Any) -> Any:
    """The sleeping screen ``widget`` is on, or None. Where a widget is (a screen, or the
    window itself: the header, the footer, a panel) is looked up by its parents once, then kept
    on the widget: a widget never moves from one screen to another, or from the window to one."""
    if widget is None:
        return None
    try:
        top = widget.kiosk_top
    except AttributeError:
        from kivy.uix.screenmanager import Screen  # noqa: PLC0415 - once per widget

        top = widget
        while not isinstance(top, Screen) and top.parent is not None and top.parent is not top:
            top = top.parent  # up to its screen, or to the Window (which is its own parent)
        if top.parent is top or isinstance(top, Screen):
            widget.kiosk_top = top  # not before: a widget being built is put on one later
    return top if getattr(top, "kiosk_asleep", False) else None


def put_to_sleep(screen: Any) -> None:
    """``screen`` is no longer shown: its rules and labels wait for ``wake``."""
    if not getattr(screen, "kiosk_asleep", False):
        screen.kiosk_pending = {}
        screen.kiosk_asleep = True


def wake(screen: Any) -> int:
    """``screen`` is about to be shown: run the kv rules it kept while asleep (in the order they
    first came) and draw its stale labels. Returns how many rules and labels that was."""
    if not getattr(screen, "kiosk_asleep", False):
        return 0
    screen.kiosk_asleep = False
    pending, screen.kiosk_pending = screen.kiosk_pending, {}
    call_fn = _call_fn()
    for entry in pending.values():
        if callable(entry):
            entry()
        else:
            call_fn(entry, None, None)
    return len(pending) + show_deferred_labels()


def run_awake(widget: Any, key: str, fn: Any) -> None:
    """Call ``fn`` now, or, when ``widget`` is on a sleeping screen, when that screen wakes
    (once, however often it was asked for meanwhile): for what a widget does in Python on a
    theme or language change, as its kv rules do by themselves."""
    screen = _asleep_screen(widget) if _sleeping else None
    if screen is None:
        fn()
    else:
        screen.kiosk_pending[(id(widget), key)] = fn


def _call_fn() -> Any:
    from kivy.lang import builder  # noqa: PLC0415

    return builder.call_fn


def show_deferred_labels() -> int:
    """Draw the stale labels that are not on a sleeping screen. Returns how many were drawn."""
    if not _stale_labels:
        return 0
    from kivy.uix.label import Label  # noqa: PLC0415

    original = Label.texture_update.original
    shown = [label for label in list(_stale_labels) if _asleep_screen(label) is None]
    for label in shown:
        _stale_labels.discard(label)
        original(label)
    return len(shown)
