"""The terminal's journal of matters handled, for the admin screen: masked data only.

Each record is also queued in the outbox as a "transaction" for the backend, in the same
SQLite transaction: either both are on disk or neither is, so the journal and what the backend
eventually receives never disagree after a power cut.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

from kiosk.identity import mask_id_number, mask_name
from kiosk.store.outbox import Outbox

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
STATUSES = ("completed", "failed", "cancelled", "paid_unconfirmed")
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
        with outbox.transaction() as conn:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)

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
        self.outbox.changed.set()
        return key

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
