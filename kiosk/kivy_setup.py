"""Kivy's process-wide settings, which must be made before ``import kivy``.

Kept out of ``kiosk.app`` so the commands can call it first. No kivy import at module level.
"""

from __future__ import annotations

import os
from pathlib import Path


def configure_kivy(*, width: int, height: int, fullscreen: bool, headless: bool, home: Path) -> None:
    """Environment and config for a kiosk window. Call once, before importing kivy."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")  # Kivy logs through logging, like the rest
    # SDL turns SIGINT/SIGTERM into a window-close request, which a kiosk refuses: then
    # neither systemctl stop nor Ctrl-C could stop it. The app installs its own handlers.
    os.environ["SDL_NO_SIGNAL_HANDLERS"] = "1"
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
    Config.set("kivy", "log_level", "warning")
    Config.set("input", "mouse", "mouse,disable_multitouch")
