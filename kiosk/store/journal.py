"""The terminal's journal of matters handled, for the admin screen: masked data only.

A matter is journaled twice. Before anything that cannot be undone (a certificate issued at
the backend, paper printed, a payment order made, a card reported lost) ``begin`` writes the
intent ("started", "printing", "paying"), durably, after checking that the data dir has room:
if that write fails, the flow stops before the act. Afterwards ``record`` settles it
(completed, failed, cancelled, paid_unconfirmed) and queues it in the outbox as a
"transaction" for the backend, in the same SQLite transaction: either both are on disk or
neither is, so the journal and what the backend eventually receives never disagree after a
power cut. A settle the disk refuses after the act is kept in memory and written once the
store takes writes again (``settle`` / ``retry_deferred``).

Intents still open when the journal is opened were cut short by a crash (``interrupted``);
they, and intents an ended session left behind, are settled by ``settle_stale``: a payment
whose order exists is in doubt (``paid_unconfirmed``, settled with the backend later), a
payment without an order never showed a QR code (``cancelled``), anything else ``failed``.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from typing import Any

from kiosk.identity import mask_id_number, mask_name
from kiosk.store.db import StoreError
from kiosk.store.outbox import Outbox

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    transaction_no TEXT PRIMARY KEY,
    item_id TEXT NOT NULL,
    item_name TEXT NOT NULL,
    masked_name TEXT NOT NULL,
    masked_id TEXT NOT NULL,
    amount_fen INTEGER,
    order_no TEXT,
    status TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS journal_at ON journal (at);
"""
COLUMNS = (
    "transaction_no",
    "item_id",
    "item_name",
    "masked_name",
    "masked_id",
    "amount_fen",
    "order_no",
    "status",
    "at",
)
STATUSES = ("completed", "failed", "cancelled", "paid_unconfirmed")  # settled: sent to the backend
INTENTS = ("started", "printing", "paying")  # written before the act; never sent
_FULL_ID = re.compile(r"\d{15}[\dXx]{0,3}")


def _masked_or_refuse(name: str, id_number: str) -> tuple[str, str]:
    # the journal is read on site by technicians: a full ID number or name must never land here
    if _FULL_ID.search(id_number or ""):
        id_number = mask_id_number(id_number)
    if name and "*" not in name:
        name = mask_name(name)
    return name, id_number


class Journal:
    """Completed-transaction journal in the outbox's database file."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        outbox.create_schema(SCHEMA)
        self._lock = threading.Lock()
        #: settles the disk refused after the act, by transaction number, written later
        self._deferred: dict[str, dict[str, Any]] = {}
        #: intents left open by the last run (a crash mid-act), as found when opened
        self.interrupted: list[dict[str, Any]] = []
        try:
            self.interrupted = self.unsettled()
        except StoreError as e:
            log.error("journal: cannot read: %s", e)
        if self.interrupted:
            log.warning("journal: %d matter(s) cut short by the last stop: %s", len(self.interrupted),
                        ", ".join(f"{r['transaction_no']} ({r['status']})" for r in self.interrupted))

    def begin(
        self,
        *,
        transaction_no: str,
        item_id: str,
        item_name: str,
        status: str,
        masked_name: str = "",
        masked_id: str = "",
        amount_fen: int | None = None,
        order_no: str | None = None,
    ) -> None:
        """Write the intent before an irreversible act; durable on return.

        Raises ``StoreError`` (``StoreFullError`` when the data dir is below its minimum of free
        space) when it cannot: the caller must not go on. Calling it again for the same matter
        (a retry) writes again, so every retry proves the store still takes writes; a matter
        already settled keeps its status.
        """
        if status not in INTENTS:
            raise ValueError(f"intent {status!r} is not one of {', '.join(INTENTS)}")
        masked_name, masked_id = _masked_or_refuse(masked_name, masked_id)
        self.outbox.require_room()
        with self.outbox.transaction() as conn:
            conn.execute(
                f"""INSERT INTO journal VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (transaction_no) DO UPDATE SET status = excluded.status,
                       amount_fen = COALESCE(excluded.amount_fen, amount_fen),
                       order_no = COALESCE(excluded.order_no, order_no)
                   WHERE status IN ({", ".join("?" * len(INTENTS))})""",
                (transaction_no, item_id, item_name, masked_name, masked_id, amount_fen, order_no, status,
                 time.time(), *INTENTS),
            )

    def record(
        self,
        *,
        transaction_no: str,
        item_id: str,
        item_name: str,
        status: str,
        masked_name: str = "",
        masked_id: str = "",
        amount_fen: int | None = None,
        order_no: str | None = None,
        at: float | None = None,
    ) -> str:
        """Record a matter and queue it for the backend; returns the outbox key.

        Recording the same ``transaction_no`` and status again (a retry after a crash) changes
        nothing; a new status (``paid_unconfirmed`` -> ``completed`` after reconciling the
        order) updates the journal and is sent to the backend too. Unmasked names or ID numbers
        are masked here as a last line of defence.
        """
        if status not in STATUSES:
            raise ValueError(f"status {status!r} is not one of {', '.join(STATUSES)}")

        masked_name, masked_id = _masked_or_refuse(masked_name, masked_id)
        at = time.time() if at is None else at
        payload = {
            "transaction_no": transaction_no,
            "item_id": item_id,
            "item_name": item_name,
            "masked_name": masked_name,
            "masked_id": masked_id,
            "amount_fen": amount_fen,
            "order_no": order_no,
            "status": status,
            "completed_at": dt.datetime.fromtimestamp(at)
            .astimezone()
            .isoformat(timespec="seconds"),
        }
        # one outbox row per (transaction, status): "paid_unconfirmed" and, once reconciled,
        # "completed" both reach the backend; recording the same status again adds nothing
        key = f"transaction-{transaction_no}-{status}"
        with self.outbox.transaction() as conn:
            conn.execute(
                """INSERT INTO journal VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (transaction_no) DO UPDATE SET status = excluded.status,
                       amount_fen = COALESCE(excluded.amount_fen, amount_fen),
                       order_no = COALESCE(excluded.order_no, order_no)""",
                (
                    transaction_no,
                    item_id,
                    item_name,
                    masked_name,
                    masked_id,
                    amount_fen,
                    order_no,
                    status,
                    at,
                ),
            )
            Outbox.insert(conn, "transaction", payload, key)
        with self._lock:
            self._deferred.pop(transaction_no, None)
        self.outbox.changed.set()
        return key

    def drop_intent(self, transaction_no: str) -> None:
        """Forget an intent whose act did not happen (the backend refused it before doing
        anything); a settled matter is never dropped. A store that refuses is only logged: the
        intent is then settled as stale later, which says no more than the truth."""
        try:
            with self.outbox.transaction() as conn:
                conn.execute(
                    f"DELETE FROM journal WHERE transaction_no = ? AND status IN ({', '.join('?' * len(INTENTS))})",
                    (transaction_no, *INTENTS),
                )
        except StoreError as e:
            log.warning("journal: intent %s not dropped: %s", transaction_no, e)

    def recent(self, days: float = 7, item: str | None = None) -> list[dict[str, Any]]:
        """Newest first."""
        sql = f"SELECT {', '.join(COLUMNS)} FROM journal WHERE at >= ?"
        args: tuple[Any, ...] = (time.time() - days * 86400,)
        if item is not None:
            sql += " AND item_id = ?"
            args += (item,)
        return [
            dict(zip(COLUMNS, row, strict=True))
            for row in self.outbox.query(sql + " ORDER BY at DESC", args)
        ]

    # --- settling when the disk refuses, and what a crash left open ----------------------------

    def settle(self, **entry: Any) -> bool:
        """``record``, for a matter whose act is done: a refusal of the disk is logged and the
        settle kept to be written later (``retry_deferred``), never raised at the resident."""
        try:
            self.record(**entry)
        except StoreError as e:
            with self._lock:
                self._deferred[entry["transaction_no"]] = dict(entry, at=entry.get("at") or time.time())
            log.error("journal: %s %s not written (kept to write later): %s",
                      entry["transaction_no"], entry["status"], e)
            return False
        return True

    def deferred(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._deferred.values())

    def retry_deferred(self) -> int:
        """Write the settles the disk refused; returns how many went through."""
        written = 0
        for entry in self.deferred():
            try:
                self.record(**entry)
            except StoreError as e:
                log.info("journal: %s still not written: %s", entry["transaction_no"], e)
                break
            written += 1
            log.info("journal: %s %s written late", entry["transaction_no"], entry["status"])
        return written

    def unsettled(self) -> list[dict[str, Any]]:
        """Intents not settled yet, oldest first."""
        sql = f"SELECT {', '.join(COLUMNS)} FROM journal WHERE status IN ({', '.join('?' * len(INTENTS))}) ORDER BY at"
        return [dict(zip(COLUMNS, row, strict=True)) for row in self.outbox.query(sql, INTENTS)]

    def settle_stale(self, *, keep: tuple[str, ...] = (), older_than_s: float | None = None) -> list[dict[str, Any]]:
        """Settle the intents nobody will settle: all of them but ``keep`` (the session in
        progress), or only those begun more than ``older_than_s`` ago. Returns what was recorded."""
        cutoff = None if older_than_s is None else time.time() - older_than_s
        waiting = {e["transaction_no"] for e in self.deferred()}
        settled = []
        for row in self.unsettled():
            txn = row["transaction_no"]
            if txn in keep or txn in waiting or (cutoff is not None and row["at"] > cutoff):
                continue
            status = stale_outcome(row)
            entry = {k: row[k] for k in ("transaction_no", "item_id", "item_name", "masked_name", "masked_id",
                                         "amount_fen", "order_no")}
            self.record(**entry, status=status)
            log.warning("journal: %s left %s; settled as %s", txn, row["status"], status)
            settled.append(entry | {"status": status, "was": row["status"]})
        return settled


def stale_outcome(row: dict[str, Any]) -> str:
    """What an intent nobody settled becomes (see the module docstring)."""
    if row["status"] == "paying":
        return "paid_unconfirmed" if row.get("order_no") else "cancelled"
    return "failed"
