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
    """A kv rule whose widget has just died must not take the app down with it.

    Kivy runs a kv binding (``color: rgba((app.theme).colour("text"))``) through a weak proxy
    of the widget it sets. A widget that dies in the middle of a dispatch (a list rebuilt by an
    earlier observer of the same property, collected before its destructor unbinds it) leaves
    a proxy that raises ``ReferenceError``: Kivy already ignores that for its delayed (canvas)
    bindings in ``Builder.sync``, not for the immediate ones, where it aborts the whole
    dispatch: switching to 大字版 after some screens crashed the kiosk. The immediate path gets
    the same treatment, and says which rule it was at DEBUG. Call after importing kivy, before
    any widget is made (a binding keeps the function it was made with).
    """
    from kivy.lang import builder  # noqa: PLC0415 - kivy must be configured first

    original = builder.call_fn
    if getattr(original, "kiosk_guarded", False):
        return

    def call_fn(args, instance, value):
        try:
            original(args, instance, value)
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


_stale_labels: Any = None  # WeakSet of labels whose texture waits for their screen to be shown


def defer_hidden_labels() -> None:
    """A label on a screen that is not shown draws its text again only when that screen is.

    A 大字版 or language switch changes the size or the words of every label of every screen
    built, and each of them rasterises its text at once (Kivy's ``texture_update``), though
    only the shown screen's are seen: on a terminal that has served for a while, every screen.
    Now a label that has been drawn before and whose screen is not shown (it has no window) is
    marked stale instead; ``show_deferred_labels`` draws the stale ones of a screen when the
    navigator shows it, before its first frame (the layout then has their new sizes).
    A label that was never drawn, or is not on a screen (a panel, the chrome), is drawn as
    before. Call after importing kivy, before any label is made.
    """
    global _stale_labels
    from weakref import WeakSet  # noqa: PLC0415

    from kivy.uix.label import Label  # noqa: PLC0415 - kivy must be configured first

    original = Label.texture_update
    if getattr(original, "kiosk_deferred", False):
        return
    _stale_labels = WeakSet()

    def texture_update(self, *largs) -> None:
        if self.texture is not None and _on_hidden_screen(self):
            _stale_labels.add(self)
            return
        original(self, *largs)

    texture_update.kiosk_deferred = True  # type: ignore[attr-defined]
    texture_update.original = original  # type: ignore[attr-defined]
    Label.texture_update = texture_update


def _on_hidden_screen(widget: Any) -> bool:
    from kivy.uix.screenmanager import Screen  # noqa: PLC0415

    top = widget
    while top.parent is not None and top.parent is not top:  # the Window is its own parent
        top = top.parent
    return isinstance(top, Screen) and top.manager is not None and top.manager.current_screen is not top


def show_deferred_labels() -> int:
    """Draw the stale labels that are on screen now (the navigator calls it after a switch).
    Returns how many were drawn."""
    if not _stale_labels:
        return 0
    from kivy.uix.label import Label  # noqa: PLC0415

    original = Label.texture_update.original
    shown = [label for label in list(_stale_labels) if not _on_hidden_screen(label)]
    for label in shown:
        _stale_labels.discard(label)
        original(label)
    return len(shown)
