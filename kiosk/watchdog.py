"""The systemd watchdog, fed from the Kivy main loop, so a frozen UI gets the kiosk restarted.

Under ``systemd/kiosk.service`` (``Type=notify``, ``WatchdogSec=``) the app tells systemd:

* ``READY=1`` once the first frame has been drawn, so "started" means "a resident sees it";
* ``WATCHDOG=1`` every half of ``WATCHDOG_USEC``, from ``Clock.schedule_interval``. Only the
  Kivy thread pings: a UI thread stuck in a blocking call, a deadlock or a runaway layout loop
  stops the pings and systemd restarts the service, while a busy worker thread, which would
  happily ping on, cannot pretend the terminal is alive;
* ``STATUS=`` with the outbox depth and the devices that are not usable, which
  ``systemctl status kiosk`` shows on site.

Without ``NOTIFY_SOCKET`` (a developer's shell, the tests) ``install`` does nothing. Kivy is
imported inside ``install``: the helpers here work without a window.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

log = logging.getLogger(__name__)

#: how often STATUS= is refreshed when systemd asked for no watchdog
STATUS_ONLY_INTERVAL_S = 30.0


def ping_interval_s(environ: Mapping[str, str] = os.environ) -> float | None:
    """Half the watchdog period systemd asked for, or None when it asked for none.

    ``WATCHDOG_PID`` is deliberately not compared with our pid: under cage the main process
    is the compositor and the kiosk is its child, allowed to notify by ``NotifyAccess=all``."""
    raw = environ.get("WATCHDOG_USEC", "")
    try:
        usec = int(raw)
    except ValueError:
        return None
    return usec / 2 / 1e6 if usec > 0 else None


def status_line(kiosk: Any) -> str:
    """``outbox 3 waiting; devices ok`` or ``...; printer: paper-out``: what a technician needs."""
    try:
        depth: int | str = kiosk.outbox.depth()
    except Exception:  # noqa: BLE001 - a status line must never stop the pings
        depth = "?"
    problems = []
    try:
        for name, snap in sorted(kiosk.hub.snapshot().items()):
            if getattr(getattr(kiosk.config.devices, name, None), "driver", "") == "none":
                continue  # not fitted on this terminal: nothing to report
            status = getattr(snap.status, "value", str(snap.status))
            paper = getattr(getattr(snap, "paper", None), "value", None)
            if status not in ("online", "busy"):
                problems.append(f"{name}: {status}")
            elif paper in ("out", "low"):
                problems.append(f"{name}: paper {paper}")
    except Exception:  # noqa: BLE001
        problems.append("devices: unknown")
    online = getattr(kiosk.delivery, "online", True)
    backend = "" if online else "; backend unreachable"
    devices = ", ".join(problems) if problems else "devices ok"
    return f"outbox {depth} waiting{backend}; {devices}"


class Notifier:
    """sd_notify over the socket named in ``NOTIFY_SOCKET`` (the ``sdnotify`` package)."""

    def __init__(self) -> None:
        import sdnotify

        self._notifier = sdnotify.SystemdNotifier()
        self.sent = 0

    def send(self, *lines: str) -> None:
        self._notifier.notify("\n".join(lines))
        self.sent += 1


class Watchdog:
    """Bound to one running ``KioskApp``; built by ``install``."""

    def __init__(self, app: Any, notifier: Notifier, interval_s: float | None) -> None:
        self.app = app
        self.notifier = notifier
        self.interval_s = interval_s
        self.ready = False
        self._last_status = ""

    def start(self) -> None:
        from kivy.clock import Clock
        from kivy.core.window import Window

        Window.bind(on_flip=self._on_flip)
        self.app.bind(on_stop=lambda *_: self.notifier.send("STOPPING=1"))
        Clock.schedule_interval(self._tick, self.interval_s or STATUS_ONLY_INTERVAL_S)

    def _on_flip(self, window: Any, *_args: Any) -> None:
        # on_flip follows the first completed draw of the window: the resident sees the kiosk
        window.unbind(on_flip=self._on_flip)
        self.ready = True
        self._last_status = status_line(self.app.kiosk)
        self.notifier.send("READY=1", f"STATUS={self._last_status}")
        log.info("systemd: ready (watchdog every %s s)", self.interval_s)

    def _tick(self, _dt: float) -> None:
        if not self.ready:
            return  # systemd's start timeout covers the time before the first frame
        lines = ["WATCHDOG=1"] if self.interval_s else []
        status = status_line(self.app.kiosk)
        if status != self._last_status:
            lines.append(f"STATUS={status}")
            self._last_status = status
        if lines:
            self.notifier.send(*lines)


def install(app: Any) -> Watchdog | None:
    """Call from ``KioskApp.on_start``. Does nothing unless systemd gave a notify socket."""
    if not os.environ.get("NOTIFY_SOCKET"):
        return None
    if getattr(app, "watchdog", None) is not None:
        return app.watchdog  # installed already: one set of pings per app
    watchdog = Watchdog(app, Notifier(), ping_interval_s())
    watchdog.start()
    app.watchdog = watchdog  # kept alive with the app; the admin screen may show it
    return watchdog
