"""Misbehaviour the reference backend can be told to show, so the terminal's handling is tested.

Each fault hits the next ``count`` matching requests (all of them when ``count`` is None) whose
path starts with ``path_prefix``. ``when="after"`` lets the request take effect first and then
misbehaves: that is the case where a terminal must not pay twice (effect done, answer lost).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

from kiosk.sim.backend.api import ApiError

FaultMode = Literal[
    "slow", "5xx", "drop", "html", "truncated", "wrong_types", "huge", "drip", "drip_headers"
]
MODES: tuple[str, ...] = (
    "slow",
    "5xx",
    "drop",
    "html",
    "truncated",
    "wrong_types",
    "huge",
    "drip",
    "drip_headers",
)


@dataclass
class Fault:
    mode: FaultMode
    count: int | None = None
    path_prefix: str = "/v1/"
    when: Literal["before", "after"] = "before"
    delay_s: float = 2.0  # slow: added delay; drip, drip_headers: pause between bytes
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


# --- how each fault looks on the wire ----------------------------------------------------------


def misbehave(h: Any, f: Fault, answer: dict | None) -> bool:
    """Apply a fault to the request handler ``h``; True when it answered (or dropped) the request."""
    if f.mode == "slow":
        h.backend.stopping.wait(f.delay_s)
        return False
    if f.mode == "5xx":
        body = ApiError(f.status, "unavailable", "服务暂不可用", "service unavailable", True).body()
        h._send_json(f.status, body, close=True)
    elif f.mode == "drop":
        h.close_connection = True
        try:
            h.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    elif f.mode == "html":
        page = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"
        h._send(200, page.encode(), "text/html", close=True)
    elif f.mode == "truncated":
        data = json.dumps(answer or {"status": "ok", "time": "x", "version": "x"}).encode()
        h._send(200, data[: max(1, len(data) // 2)], "application/json", close=True)
    elif f.mode == "wrong_types":
        h._send_json(
            200, wrong_types(answer or {"status": "ok", "time": "", "version": ""}), close=True
        )
    elif f.mode == "huge":
        _stream(h, b'{"status": "ok", "padding": "', f.size, delay=0.0)
    elif f.mode == "drip_headers":
        _drip_head(h, f.delay_s)
    elif f.mode == "drip":
        _stream(h, b'{"status": "ok", "padding": "', 4096, delay=f.delay_s)
    return True


def _drip_head(h: Any, delay: float) -> None:
    """The status line and headers a byte at a time: each byte beats the read timeout."""
    h.close_connection = True
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: " + b"a" * 4096
    try:
        for i in range(len(head)):
            if h.backend.stopping.is_set():
                break
            h.wfile.write(head[i : i + 1])
            h.wfile.flush()
            time.sleep(delay)
    except OSError:
        pass  # the client hung up, as it should


def _stream(h: Any, head: bytes, size: int, *, delay: float) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(size))
    h.send_header("Connection", "close")
    h.close_connection = True
    h.end_headers()
    try:
        h.wfile.write(head)
        sent, chunk = len(head), (b"a" if delay else b"a" * 65536)
        while sent < size and not h.backend.stopping.is_set():
            h.wfile.write(chunk[: size - sent])
            sent += len(chunk)
            if delay:
                h.wfile.flush()
                time.sleep(delay)
    except OSError:
        pass  # the client hung up, as it should


def wrong_types(value: Any) -> Any:
    """The same shape with every leaf of the wrong type: what a broken backend build sends."""
    if isinstance(value, dict):
        return {k: wrong_types(v) for k, v in value.items()}
    if isinstance(value, list):
        return {"unexpected": "object"}
    if isinstance(value, bool):
        return "yes"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return 12345
    return value
