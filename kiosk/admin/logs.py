"""Recent log lines for the admin screen and the diagnostics bundle.

A ring buffer handler on the root logger keeps the last lines in memory, so a technician
sees what happened even when no log file is configured (journald only). When
``logging.file`` is set, its tail is read instead of (or besides) the ring. Every line shown
or exported is passed through ``scrub`` first.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from pathlib import Path

from kiosk.admin.audit import scrub

LINE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class LogRing(logging.Handler):
    """Keeps the last ``capacity`` formatted records."""

    def __init__(self, capacity: int = 2000, level: int = logging.INFO) -> None:
        super().__init__(level)
        self._lines: deque[str] = deque(maxlen=capacity)
        self._ring_lock = threading.Lock()
        self.setFormatter(logging.Formatter(LINE_FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # noqa: BLE001 - a bad log call must not break the caller
            self.handleError(record)
            return
        with self._ring_lock:
            self._lines.append(line)

    def lines(self, n: int = 200) -> list[str]:
        with self._ring_lock:
            items = list(self._lines)
        return items[-n:] if n else items


def install_log_ring(capacity: int = 2000, level: int = logging.INFO) -> LogRing:
    """Attach a ring to the root logger once; later calls return the same ring."""
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler, LogRing):
            return handler
    ring = LogRing(capacity, level)
    root.addHandler(ring)
    if root.level > level or root.level == logging.NOTSET:
        root.setLevel(level)
    return ring


def installed_ring() -> LogRing | None:
    for handler in logging.getLogger().handlers:
        if isinstance(handler, LogRing):
            return handler
    return None


def tail_file(path: Path, n: int = 200, max_bytes: int = 256 * 1024) -> list[str]:
    """The last ``n`` lines of a text file, reading at most ``max_bytes`` from its end."""
    try:
        with path.open("rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            data = f.read()
    except OSError:
        return []
    lines = data.decode("utf-8", errors="replace").splitlines()
    if size > max_bytes and lines:
        lines = lines[1:]  # the first line was cut in the middle
    return lines[-n:]


def recent_lines(log_file: Path | None = None, n: int = 200) -> list[str]:
    """Scrubbed recent lines: the log file's tail when there is one, else the ring's."""
    lines: list[str] = []
    if log_file is not None:
        lines = tail_file(log_file, n)
    if not lines:
        ring = installed_ring()
        lines = ring.lines(n) if ring is not None else []
    return [scrub(line) for line in lines]
