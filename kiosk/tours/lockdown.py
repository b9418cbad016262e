"""The kiosk stays up against a resident and stops for its operator.

``lockdown``: the window's close request and Escape are refused (there is no way out of a
kiosk but the technicians' screen); then the tour prints ``KIOSK_TOUR lockdown held`` and
waits, so a test can send SIGTERM or SIGINT and watch the kiosk stop cleanly.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kiosk.tours.engine import Tour, Wait

HELD = "KIOSK_TOUR lockdown held"


def lockdown(tour: Tour) -> Iterator[Any]:
    from kivy.base import EventLoop
    from kivy.core.window import Window

    yield tour.until_screen("home", 30)
    yield 0.5
    tour.facts["close_refused"] = bool(Window.dispatch("on_request_close"))
    tour.facts["escape_refused"] = bool(Window.dispatch("on_keyboard", 27, 41, None, []))
    yield 1.0
    tour.facts["still_running"] = EventLoop.status == "started" and tour.screen_name() == "home"
    ok = all(tour.facts[k] for k in ("close_refused", "escape_refused", "still_running"))
    print(f"{HELD} {'ok' if ok else 'BROKEN'}", flush=True)
    yield Wait(lambda: False, "a signal to stop the kiosk", 600)


TOURS = {"lockdown": lockdown}
