"""The simulated platform's state in SQLite: orders, payments, certificates, card status.

The gateway in front keeps nonces, idempotency keys and what terminals deliver in its own
database. The platform keeps its own record of each write's business serial number (the
terminal's idempotency key, passed on by the adapter) as a real platform does: effect and
stored answer in one transaction, so a write that reaches it twice (a gateway that crashed
between the platform's answer and its own record) still has one effect. Several gateway
processes may share one platform file: writes take SQLite's lock with ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency (
    terminal TEXT NOT NULL, key TEXT NOT NULL, route TEXT NOT NULL, body_hash TEXT NOT NULL,
    status INTEGER NOT NULL, response TEXT NOT NULL, created_at TEXT NOT NULL,
    PRIMARY KEY (terminal, key)
);
CREATE TABLE IF NOT EXISTS certificates (
    certificate_no TEXT PRIMARY KEY, verification_code TEXT UNIQUE NOT NULL, kind TEXT NOT NULL,
    resident TEXT NOT NULL, terminal TEXT NOT NULL, issued_at TEXT NOT NULL, document TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    order_no TEXT PRIMARY KEY, terminal TEXT NOT NULL, purpose TEXT NOT NULL,
    resident TEXT NOT NULL, amount_fen INTEGER NOT NULL, status TEXT NOT NULL,
    created_at TEXT NOT NULL, expires_at TEXT NOT NULL, paid_at TEXT, detail TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS bill_payments (
    bill_id TEXT PRIMARY KEY, order_no TEXT NOT NULL, paid_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS contribution_payments (
    resident TEXT NOT NULL, scheme TEXT NOT NULL, period TEXT NOT NULL, order_no TEXT NOT NULL,
    amount_fen INTEGER NOT NULL, paid_at TEXT NOT NULL, PRIMARY KEY (resident, scheme, period)
);
CREATE TABLE IF NOT EXISTS card_status (
    resident TEXT PRIMARY KEY, status TEXT NOT NULL, changed_at TEXT NOT NULL
);
"""


class IdempotencyConflict(Exception):
    """The key was already used for a different request."""


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")


class ReferenceStore:
    """One SQLite file; one connection guarded by a lock (the server is threaded)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")  # a simulator: speed over power-cut safety
        self.conn.executescript(SCHEMA)
        #: where "what terminals sent" lives (the gateway's store), for ``received`` and
        #: ``clear_received``
        self.received_source: Any = None
        #: writes answered from the idempotency store: resends that had no second effect
        self.replays = 0

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    # --- idempotent writes -----------------------------------------------------------------

    def idempotent(
        self,
        terminal: str,
        key: str,
        route: str,
        body_hash: str,
        effect: Callable[[sqlite3.Connection], tuple[int, dict[str, Any]]],
    ) -> tuple[int, dict[str, Any], bool]:
        """Run ``effect`` once per (terminal, key); return (status, answer, replayed)."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")  # the look-up too: another process may share the file
            try:
                row = self.conn.execute(
                    "SELECT route, body_hash, status, response FROM idempotency WHERE terminal=? AND key=?",
                    (terminal, key),
                ).fetchone()
                if row is None:
                    status, answer = effect(self.conn)
                    if status < 500:
                        # 4xx answers are stored too: the same request must get the same refusal
                        self.conn.execute(
                            "INSERT INTO idempotency VALUES (?, ?, ?, ?, ?, ?, ?)",
                            (terminal, key, route, body_hash, status,
                             json.dumps(answer, ensure_ascii=False), now_iso()),
                        )
                        self.conn.execute("COMMIT")
                        return status, answer, False
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("ROLLBACK")
            if row is None:
                return status, answer, False
            if row[0] != route or row[1] != body_hash:
                raise IdempotencyConflict(key)
            self.replays += 1
            return row[2], json.loads(row[3]), True

    # --- what terminals sent (kept by the gateway) -------------------------------------------

    def received(self, kind: str | None = None) -> list[dict[str, Any]]:
        return self.received_source.received(kind) if self.received_source is not None else []

    def clear_received(self) -> None:
        if self.received_source is not None:
            self.received_source.clear_received()
