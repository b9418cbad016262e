"""One payment order per session: create it once, watch it, close it, reconcile it.

The rule every method here serves is that a resident is never charged twice:

* the order is created with one idempotency key per session, so a retry after a lost answer
  gets the same order back and never a second one;
* once the terminal has an order it never asks for another in the same session, whatever
  happened to the first (a lost answer leaves the order "unknown", not "gone");
* 取消 and the terminal's own time limit close the order at the backend, and a close that the
  backend refuses because the resident paid meanwhile turns into a paid order;
* an order whose state the terminal could not learn is journaled ``paid_unconfirmed`` and
  settled later by ``settle_unconfirmed`` (asking the backend, closing it if it was not paid).

Blocking (HTTP): everything here runs on a worker thread or in a script.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from kiosk.errors import BackendError, BackendUnavailableError, KioskError

log = logging.getLogger(__name__)

#: how long the QR code stays up before the terminal closes the order (the backend allows more)
PAYMENT_WINDOW_S = 180.0
#: how often the terminal asks whether the resident has paid
POLL_INTERVAL_S = 2.0
#: how long the terminal keeps asking after losing the backend, before it tells the resident
#: plainly that the result is being confirmed and lets them go
UNKNOWN_GRACE_S = 30.0
#: the journal row that settles a ``paid_unconfirmed`` one carries this suffix
SETTLED_SUFFIX = "-R"


class PayState(StrEnum):
    NEW = "new"  # no order asked for yet
    UNPAID = "unpaid"  # the QR code is valid, nobody has paid
    PAID = "paid"
    CLOSED = "closed"
    EXPIRED = "expired"
    UNKNOWN = "unknown"  # the backend could not be asked: the resident may have paid


class PaymentOrder:
    """The session's one order, as far as the terminal knows it. Thread-safe."""

    def __init__(self, backend: Any, idempotency_key: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.backend = backend
        self.idempotency_key = idempotency_key
        self.clock = clock
        self.order: dict | None = None
        self.state = PayState.NEW
        self.unknown_since: float | None = None
        self.lock = threading.RLock()

    @property
    def order_no(self) -> str:
        return str(self.order["order_no"]) if self.order else ""

    def unknown_for(self) -> float:
        """Seconds since the terminal lost sight of the order (0 while it can see it)."""
        return 0.0 if self.unknown_since is None else self.clock() - self.unknown_since

    def create(self, request: dict) -> dict:
        """The order for ``request``; the first one again if there already is one."""
        with self.lock:
            if self.order is not None:
                return self.order
            # a lost answer raises here; asking again later sends the same key, so the backend
            # hands back the order it may already have made instead of making a second one
            order = self.backend.create_order(request, idempotency_key=self.idempotency_key)
            self._take(order)
            return order

    def refresh(self) -> PayState:
        """Ask the backend once what became of the order."""
        with self.lock:
            if self.order is None or self.state in (PayState.PAID, PayState.CLOSED, PayState.EXPIRED):
                return self.state
            try:
                self._take(self.backend.reconcile_order(self.order_no))
            except BackendError as e:
                if not e.retryable:  # the backend answered no (unknown order ...): not a lost answer
                    raise
                self._lost(e)
            return self.state

    def close(self) -> PayState:
        """Close the order unless it was paid; PAID when the resident paid just before."""
        with self.lock:
            if self.order is None or self.state in (PayState.PAID, PayState.CLOSED, PayState.EXPIRED):
                return self.state
            try:
                # reconcile_order closes an unpaid order and turns "already paid" into the paid order
                self._take(self.backend.reconcile_order(self.order_no, close_unpaid=True))
            except BackendError as e:
                if not e.retryable:  # the backend answered no (unknown order ...): not a lost answer
                    raise
                self._lost(e)
            return self.state

    def _take(self, order: dict) -> None:
        self.order = order
        self.state = PayState(str(order["status"]))
        self.unknown_since = None

    def _lost(self, error: KioskError) -> None:
        log.warning("payment order %s: state unknown: %s", self.order_no, error)
        self.state = PayState.UNKNOWN
        if self.unknown_since is None:
            self.unknown_since = self.clock()


def pending_unconfirmed(journal: Any, days: float = 30) -> list[dict]:
    """Journal rows still ``paid_unconfirmed``: no settling row recorded after them."""
    rows = journal.recent(days=days)
    settled = {r["transaction_no"].removesuffix(SETTLED_SUFFIX) for r in rows if r["transaction_no"].endswith(SETTLED_SUFFIX)}
    return [r for r in rows if r["status"] == "paid_unconfirmed" and r["order_no"] and r["transaction_no"] not in settled]


def settle_unconfirmed(journal: Any, backend: Any) -> list[dict]:
    """Ask the backend about every unconfirmed payment and journal what really happened.

    An order still unpaid is closed first, so it cannot be paid later behind the terminal's
    back. Each settled payment gets a journal row ``<transaction_no>-R`` (``completed`` when it
    was paid, ``cancelled`` when it was not): the journal keeps both the doubt and its answer.
    Payments the backend still cannot answer for stay pending. Returns the rows recorded.
    """
    settled: list[dict] = []
    for row in pending_unconfirmed(journal):
        try:
            order = backend.reconcile_order(row["order_no"], close_unpaid=True)
        except BackendUnavailableError as e:
            log.info("payment %s still unconfirmed: %s", row["transaction_no"], e)
            continue
        status = "completed" if order["status"] == "paid" else "cancelled"
        entry = {
            "transaction_no": row["transaction_no"] + SETTLED_SUFFIX,
            "item_id": row["item_id"],
            "item_name": row["item_name"],
            "masked_name": row["masked_name"],
            "masked_id": row["masked_id"],
            "amount_fen": row["amount_fen"],
            "order_no": row["order_no"],
            "status": status,
        }
        journal.record(**entry)
        log.info("payment %s settled as %s", row["transaction_no"], status)
        settled.append(entry)
    return settled
