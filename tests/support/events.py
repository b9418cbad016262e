"""Waiting for what a device or a thread does, instead of sleeping and hoping."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from kiosk.hardware.base import DeviceEvent, EventKind

#: generous: other suites share the two cores
WAIT = 5.0
#: ``Events.wait(kind)`` without a payload: any payload will do
ANY: Any = ...


def wait_for(cond: Callable[[], object], timeout: float = WAIT, what: str = "") -> None:
    """Return as soon as ``cond()`` is true; fail the test if it is not within ``timeout``."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what or 'condition'} not met within {timeout} s")
        time.sleep(0.005)


class Events:
    """A device-event sink (``reader.start(events)``) that records every event, thread-safely.

    ``wait(kind)`` returns the next event of that kind that no earlier ``wait`` has passed, so
    a test walks through what happened in order; ``of(kind)`` lists every event of a kind so
    far and ``payloads(kind)`` their payloads; ``device=`` narrows all three to one device (the
    hub's sink gets every device's events).
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.all: list[DeviceEvent] = []
        self._next = 0  # events before this index were passed by a wait

    def __call__(self, event: DeviceEvent) -> None:
        with self._changed:
            self.all.append(event)
            self._changed.notify_all()

    @property
    def seen(self) -> list[DeviceEvent]:
        """The events the waits so far have passed."""
        with self._changed:
            return self.all[: self._next]

    def wait(self, kind: EventKind, payload: object = ANY, timeout: float = WAIT,
             device: str | None = None) -> DeviceEvent:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                while self._next < len(self.all):
                    event = self.all[self._next]
                    self._next += 1
                    if self._matches(event, kind, device) and (payload is ANY or event.payload == payload):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(e.kind.value, e.payload if e.kind is EventKind.STATUS else "") for e in self.all]
                    wanted = "" if payload is ANY else f" {payload!r}"
                    raise AssertionError(f"no {kind.value}{wanted} within {timeout} s; saw {seen}")
                self._changed.wait(left)

    def drain(self, for_s: float) -> list[DeviceEvent]:
        """The events no wait has passed yet, after watching ``for_s`` seconds for more (for a
        test that something does *not* happen again)."""
        time.sleep(for_s)
        with self._changed:
            out, self._next = self.all[self._next :], len(self.all)
        return out

    def of(self, kind: EventKind, device: str | None = None) -> list[DeviceEvent]:
        with self._changed:
            return [e for e in self.all if self._matches(e, kind, device)]

    def payloads(self, kind: EventKind, device: str | None = None) -> list[object]:
        return [e.payload for e in self.of(kind, device)]

    @staticmethod
    def _matches(event: DeviceEvent, kind: EventKind, device: str | None) -> bool:
        return event.kind is kind and (device is None or event.device == device)
