"""Misbehaviour the reference backend can be told to show, so the terminal's handling is tested.

Each fault hits the next ``count`` matching requests (all of them when ``count`` is None) whose
path starts with ``path_prefix``. ``when="after"`` lets the request take effect first and then
misbehaves: that is the case where a terminal must not pay twice (effect done, answer lost).
``FaultLayer`` is an ASGI layer in front of the gateway; the wire-level faults (drop, a head
dripped a byte at a time) use the connection's transport, which the gateway's protocol puts
in the request's scope.
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass
from typing import Any, Literal

from kiosk.gateway.errors import ApiError

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


class FaultLayer:
    """ASGI: applies the current fault to ``/v1/`` requests before or after the gateway."""

    def __init__(self, app: Any, faults: Faults, stopping: threading.Event) -> None:
        self.app, self.faults, self.stopping = app, faults, stopping

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        fault = self.faults.take(scope["path"]) if scope["type"] == "http" else None
        if fault is None:
            await self.app(scope, receive, send)
            return
        transport = scope.get("extensions", {}).get("kiosk.transport")
        if fault.when == "before" and await misbehave(send, transport, fault, None, self.stopping):
            return
        if fault.when == "before":
            await self.app(scope, receive, send)
            return
        captured: list[dict] = []

        async def capture(message: dict) -> None:
            captured.append(message)

        await self.app(scope, receive, capture)
        body = b"".join(m.get("body", b"") for m in captured if m["type"] == "http.response.body")
        try:
            answer = json.loads(body)
        except ValueError:
            answer = None
        if not await misbehave(send, transport, fault, answer, self.stopping):
            for message in captured:
                await send(message)


async def _pause(seconds: float, stopping: threading.Event) -> None:
    end = asyncio.get_running_loop().time() + seconds
    while not stopping.is_set() and asyncio.get_running_loop().time() < end:
        await asyncio.sleep(min(0.05, seconds))


async def _respond(send: Any, status: int, data: bytes, ctype: str, length: int | None = None) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", ctype.encode()), (b"content-length", str(len(data) if length is None else length).encode()),
        (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": data})


async def _hang_up(transport: Any) -> None:
    if transport is not None:
        transport.close()
        await asyncio.sleep(0.01)  # the server notices the connection is gone: no answer is sent


async def misbehave(send: Any, transport: Any, f: Fault, answer: dict | None, stopping: threading.Event) -> bool:
    """Apply a fault; True when it answered (or dropped) the request."""
    if f.mode == "slow":
        await _pause(f.delay_s, stopping)
        return False
    if f.mode == "5xx":
        body = ApiError(f.status, "unavailable", "服务暂不可用", "service unavailable", True).body()
        await _respond(send, f.status, json.dumps(body, ensure_ascii=False).encode(), "application/json")
    elif f.mode == "drop":
        await _hang_up(transport)
    elif f.mode == "html":
        page = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"
        await _respond(send, 200, page, "text/html")
    elif f.mode == "truncated":
        data = json.dumps(answer or {"status": "ok", "time": "x", "version": "x"}).encode()
        await _respond(send, 200, data[: max(1, len(data) // 2)], "application/json")
    elif f.mode == "wrong_types":
        data = json.dumps(wrong_types(answer or {"status": "ok", "time": "", "version": ""})).encode()
        await _respond(send, 200, data, "application/json")
    elif f.mode == "huge":
        await _stream(send, transport, f.size, delay=0.0, stopping=stopping)
    elif f.mode == "drip_headers":
        await _drip_head(transport, f.delay_s, stopping)
    elif f.mode == "drip":
        await _stream(send, transport, 4096, delay=f.delay_s, stopping=stopping)
    return True


async def _drip_head(transport: Any, delay: float, stopping: threading.Event) -> None:
    """The status line and headers a byte at a time: each byte beats the read timeout."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: " + b"a" * 4096
    for i in range(len(head)):
        if stopping.is_set() or transport is None or transport.is_closing():
            break
        transport.write(head[i : i + 1])
        await _pause(delay, stopping)
    await _hang_up(transport)


async def _stream(send: Any, transport: Any, size: int, *, delay: float, stopping: threading.Event) -> None:
    head = b'{"status": "ok", "padding": "'
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(size).encode()),
        (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": head, "more_body": True})
    sent, chunk = len(head), (b"a" if delay else b"a" * 65536)
    while sent < size - len(chunk) and not stopping.is_set():
        if transport is not None and transport.is_closing():
            return  # the client hung up, as it should
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
        sent += len(chunk)
        if delay:
            await _pause(delay, stopping)
    await _hang_up(transport)


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
