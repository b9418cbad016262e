"""Misbehaviour the reference backend can be told to show, so the terminal's handling is tested.

Each fault hits the next ``count`` matching requests (all of them when ``count`` is None) whose
path starts with ``path_prefix``. ``when="after"`` lets the request take effect first and then
misbehaves: that is the case where a terminal must not pay twice (effect done, answer lost).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

FaultMode = Literal["slow", "5xx", "drop", "html", "truncated", "wrong_types", "huge", "drip"]
MODES: tuple[str, ...] = ("slow", "5xx", "drop", "html", "truncated", "wrong_types", "huge", "drip")


@dataclass
class Fault:
    mode: FaultMode
    count: int | None = None
    path_prefix: str = "/v1/"
    when: Literal["before", "after"] = "before"
    delay_s: float = 2.0  # slow: added delay; drip: pause between bytes
    status: int = 503  # 5xx: the status sent
    size: int = 32 * 1024 * 1024  # huge: bytes sent


class Faults:
    """Thread-safe holder of the current fault; the server asks it once per request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fault: Fault | None = None
        self.hits = 0

    def set(self, mode: FaultMode, **kwargs: object) -> Fault:
        if mode not in MODES:
            raise ValueError(f"unknown fault {mode!r}; one of {', '.join(MODES)}")
        fault = Fault(mode=mode, **kwargs)  # type: ignore[arg-type]
        with self._lock:
            self._fault = fault
            self.hits = 0
        return fault

    def clear(self) -> None:
        with self._lock:
            self._fault = None

    @property
    def current(self) -> Fault | None:
        with self._lock:
            return self._fault

    def take(self, path: str) -> Fault | None:
        """The fault to apply to this request, counting it down."""
        with self._lock:
            f = self._fault
            if f is None or not path.startswith(f.path_prefix):
                return None
            if f.count is not None:
                if f.count <= 0:
                    self._fault = None
                    return None
                f.count -= 1
            self.hits += 1
            return f
