"""``/sim/...``: the reference backend's test and demo controls over HTTP (loopback only).

GET    /sim/received[?kind=rating]      what terminals delivered, oldest first
DELETE /sim/received                    forget it
GET    /sim/faults                      the current fault
POST   /sim/faults  {"mode": ..., ...}  misbehave (see ``faults.Fault`` for the fields)
DELETE /sim/faults                      behave again
POST   /sim/orders/{order_no}/pay       the resident "scans and pays"
GET    /sim/accounts                    demo water/electricity/gas account numbers (for the panel)
POST   /sim/tokens  {"resident": KEY}   a fresh 电子社保卡 / 电子身份证 code (``tokens.sim_issue``)
GET    /sim/paycodes                    the demo payment codes and what each does
GET    /sim/applications                applications received, with their files' digests
POST   /sim/applications/advance        {"application_no", "steps"}: move an application on
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from kiosk.gateway.errors import ApiError
from kiosk.gateway.server import is_loopback

if TYPE_CHECKING:
    from kiosk.sim.backend.server import ReferenceBackend

MAX_BODY = 4096


def handle(
    backend: ReferenceBackend, method: str, path: str, query: dict[str, str], raw: bytes
) -> tuple[int, dict[str, Any]]:
    if path == "/sim/received":
        if method == "GET":
            items = backend.received(query.get("kind") or None)
            return 200, {"count": len(items), "items": items}
        if method == "DELETE":
            backend.store.clear_received()
            return 200, {"cleared": True}
    if path == "/sim/faults":
        if method == "GET":
            f = backend.faults.current
            return 200, {"fault": dataclasses.asdict(f) if f else None, "hits": backend.faults.hits}
        if method == "POST":
            try:
                spec = json.loads(raw or b"{}")
                mode = spec.pop("mode")
                fault = backend.faults.set(mode, **spec)
            except (ValueError, KeyError, TypeError, AttributeError) as e:
                raise ApiError(400, "bad_fault", "参数错误", f"bad fault: {e}") from None
            return 200, {"fault": dataclasses.asdict(fault)}
        if method == "DELETE":
            backend.faults.clear()
            return 200, {"fault": None}
    if path == "/sim/accounts" and method == "GET":
        from kiosk.sim.backend import bills

        return 200, {
            "accounts": [
                {"utility": a.utility, "account_no": a.account_no, "resident": a.resident.key}
                for a in bills.ACCOUNTS.values()
            ]
        }
    if path == "/sim/tokens" and method == "POST":
        from kiosk.sim.backend import tokens

        return tokens.sim_issue(backend, raw)
    if path == "/sim/paycodes" and method == "GET":
        from kiosk.sim.backend import paycode

        return paycode.sim_codes()
    if path.startswith("/sim/applications"):
        from kiosk.sim.backend import applications

        answer = applications.sim_control(backend, method, path, raw)
        if answer is not None:
            return answer
    parts = path.strip("/").split("/")
    if (
        method == "POST"
        and len(parts) == 4
        and parts[:2] == ["sim", "orders"]
        and parts[3] == "pay"
    ):
        return 200, backend.mark_paid(parts[2])
    raise ApiError(404, "not_found", "请求的服务不存在", f"no such endpoint {method} {path}")


class SimControls:
    """ASGI: answers ``/sim/`` for loopback clients, passes everything else on."""

    def __init__(self, app: Any, backend: ReferenceBackend) -> None:
        self.app, self.backend = app, backend

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/sim/"):
            await self.app(scope, receive, send)
            return
        import anyio

        client = (scope.get("client") or ("", 0))[0]
        raw = b""
        more = True
        while more and len(raw) <= MAX_BODY:
            message = await receive()
            raw += message.get("body", b"")
            more = message.get("more_body", False) and message["type"] == "http.request"
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        try:
            if not is_loopback(client):
                raise ApiError(403, "forbidden", "禁止访问", "loopback only")
            if len(raw) > MAX_BODY:
                raise ApiError(413, "request_too_large", "请求过大", "request body too large")
            status, answer = await anyio.to_thread.run_sync(
                handle, self.backend, scope["method"], scope["path"], query, raw)
        except ApiError as e:
            status, answer = e.status, e.body()
        data = json.dumps(answer, ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})
