"""What whoever starts the kiosk app may ask of it beyond the config (no Kivy here, so the
commands can build it before Kivy is configured)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AppOptions:
    """What whoever starts the app may ask of it beyond the config: the demo, the tours, the
    screenshots and the start-up benchmark pass these explicitly; a terminal passes none."""

    #: a fixed text in place of the header clock, so screenshots can be compared
    fixed_clock: str = ""
    #: opens the reviewers' simulator panel (``kiosk demo`` only); None: no 模拟器 button
    simulator: Callable[[], None] | None = None
    #: pictures move in a slow loop; off: drawn still (screenshots that must compare)
    animate: bool = True
    #: called once the first home frame is really drawn, with its wall-clock time
    on_first_frame: Callable[[Any, float], None] | None = None
