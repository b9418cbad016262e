"""``/sim/...``: the reference backend's test and demo controls over HTTP (loopback only).

GET    /sim/received[?kind=rating]      what terminals delivered, oldest first
DELETE /sim/received                    forget it
GET    /sim/faults                      the current fault
POST   /sim/faults  {"mode": ..., ...}  misbehave (see ``faults.Fault`` for the fields)
DELETE /sim/faults                      behave again
POST   /sim/orders/{order_no}/pay       the resident "scans and pays"
GET    /sim/accounts                    demo water/electricity/gas account numbers (for the panel)
GET    /sim/applications                applications received, with their files' digests
POST   /sim/applications/advance        {"application_no", "steps"}: move an application on
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from kiosk.sim.backend.api import ApiError

if TYPE_CHECKING:
    from kiosk.sim.backend.server import ReferenceBackend


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
            except (ValueError, KeyError, TypeError) as e:
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
