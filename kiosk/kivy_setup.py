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


def configure_kivy(*, width: int, height: int, fullscreen: bool, headless: bool, home: Path) -> None:
    """Environment and config for a kiosk window. Call once, before importing kivy."""
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
