"""The simulated government platform as a gateway adapter (``kiosk.gateway.adapter.Platform``).

Demo residents' records, bills, payment orders, certificates and card status, from the data
modules beside this one; its own state (orders, payments, certificates, card losses, each
write's serial number) in ``reference.db`` in its data folder. ``kiosk gateway serve
--adapter sim`` serves it; ``ReferenceBackend`` (server.py) is it with a gateway in front.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from kiosk.gateway.adapter import Ctx
from kiosk.sim.backend import payments
from kiosk.sim.backend.api import Call
from kiosk.sim.backend.routes import OPERATIONS
from kiosk.sim.backend.store import ReferenceStore


def _server_secret(data_dir: Path) -> bytes:
    # keeps verification codes stable across restarts of the same data dir
    path = data_dir / "server.secret"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip().encode()


class SimulatedPlatform:
    """The platform's methods are generated from ``routes.OPERATIONS``: each wraps the data
    module's handler in a ``Call`` (``self`` is the call's ``backend``)."""

    def __init__(self, data_dir: Path, *, today: dt.date | None = None) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = data_dir
        self._today = today
        self.store = ReferenceStore(data_dir / "reference.db")
        self.signing_secret = _server_secret(data_dir)
        #: where terminals reach the gateway: the start of certificates' verification links
        self.public_url = ""
        #: demos without a person to scan the QR code: orders pay themselves after this long
        self.auto_pay_after_s: float | None = None
        #: how long a payment order can be paid
        self.order_ttl_s = 15 * 60
        self.stopping = threading.Event()
        payments.seed_demo_orders(self)

    def today(self) -> dt.date:
        return self._today or dt.date.today()

    def close(self) -> None:
        self.store.close()

    # --- the payment channel -------------------------------------------------------------------

    def mark_paid(self, order_no: str) -> dict[str, Any]:
        return payments.mark_paid(self, order_no)

    def schedule_auto_pay(self, order_no: str) -> None:
        def pay() -> None:
            try:
                self.mark_paid(order_no)
            except Exception:  # closed or expired meanwhile: nothing to pay
                pass

        timer = threading.Timer(self.auto_pay_after_s or 0.0, pay)
        timer.daemon = True
        timer.start()

    # --- the Platform protocol -----------------------------------------------------------------

    def _run(self, name: str, ctx: Ctx, q: BaseModel) -> dict[str, Any]:
        if ctx.base_url:
            self.public_url = ctx.base_url
        call = Call(self, ctx.terminal, q.model_dump(mode="json"), ctx.key, {})
        _status, answer = OPERATIONS[name](call)
        return answer

    def verify_certificate(self, code: str) -> dict[str, Any]:
        from kiosk.sim.backend import certificates

        _status, answer = certificates.verify(Call(self, "", {}, "", {"code": code}))
        return answer

    def track_application(self, code: str) -> dict[str, Any]:
        from kiosk.sim.backend import applications

        _status, answer = applications.track(Call(self, "", {}, "", {"code": code}))
        return answer

    def forward(self, ctx: Ctx, kind: str, payload: dict[str, Any]) -> None:
        """The simulated platform keeps nothing of deliveries: the gateway has them."""


def _method(name: str) -> Any:
    def method(self: SimulatedPlatform, ctx: Ctx, q: BaseModel) -> dict[str, Any]:
        return self._run(name, ctx, q)

    method.__name__ = name
    return method


for _name in OPERATIONS:
    setattr(SimulatedPlatform, _name, _method(_name))
