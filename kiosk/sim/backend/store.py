"""The reference backend's state in SQLite: nonces, idempotent writes, what terminals sent.

Every write a terminal makes goes through ``idempotent``: its effect and the stored answer are
committed in one transaction, keyed by (terminal, idempotency key). A resend with the same key
gets the same stored answer and causes no second effect; a different body under a key already
used is refused, because it means the terminal has a bug.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.backend.signing import MAX_SKEW_S

SCHEMA = """
CREATE TABLE IF NOT EXISTS nonces (
    terminal TEXT NOT NULL, nonce TEXT NOT NULL, ts INTEGER NOT NULL,
    PRIMARY KEY (terminal, nonce)
);
CREATE TABLE IF NOT EXISTS idempotency (
    terminal TEXT NOT NULL, key TEXT NOT NULL, route TEXT NOT NULL, body_hash TEXT NOT NULL,
    status INTEGER NOT NULL, response TEXT NOT NULL, created_at TEXT NOT NULL,
    PRIMARY KEY (terminal, key)
);
CREATE TABLE IF NOT EXISTS received (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, terminal TEXT NOT NULL,
    idempotency_key TEXT NOT NULL, payload TEXT NOT NULL, received_at TEXT NOT NULL
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
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")  # a simulator: speed over power-cut safety
        self.conn.executescript(SCHEMA)
        self._last_purge = 0.0
        #: writes answered from the idempotency store: resends that had no second effect
        self.replays = 0

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    # --- replay protection -----------------------------------------------------------------

    def remember_nonce(self, terminal: str, nonce: str, ts: int) -> bool:
        with self.lock:
            now = time.time()
            if now - self._last_purge > 60:
                # a nonce older than the skew window can never be accepted again anyway
                self.conn.execute("DELETE FROM nonces WHERE ts < ?", (int(now) - 2 * MAX_SKEW_S,))
                self._last_purge = now
            cur = self.conn.execute(
                "INSERT OR IGNORE INTO nonces (terminal, nonce, ts) VALUES (?, ?, ?)",
                (terminal, nonce, ts),
            )
            return cur.rowcount == 1

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
            row = self.conn.execute(
                "SELECT route, body_hash, status, response FROM idempotency WHERE terminal=? AND key=?",
                (terminal, key),
            ).fetchone()
            if row is not None:
                if row[0] != route or row[1] != body_hash:
                    raise IdempotencyConflict(key)
                self.replays += 1
                return row[2], json.loads(row[3]), True
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                status, answer = effect(self.conn)
                if status < 500:
                    # 4xx answers are stored too: the same request must get the same refusal
                    self.conn.execute(
                        "INSERT INTO idempotency VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (
                            terminal,
                            key,
                            route,
                            body_hash,
                            status,
                            json.dumps(answer, ensure_ascii=False),
                            now_iso(),
                        ),
                    )
                    self.conn.execute("COMMIT")
                else:
                    self.conn.execute("ROLLBACK")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            return status, answer, False

    # --- what terminals sent ---------------------------------------------------------------

    def add_received(
        self, conn: sqlite3.Connection, kind: str, terminal: str, key: str, payload: dict[str, Any]
    ) -> str:
        at = now_iso()
        conn.execute(
            "INSERT INTO received (kind, terminal, idempotency_key, payload, received_at) VALUES (?, ?, ?, ?, ?)",
            (kind, terminal, key, json.dumps(payload, ensure_ascii=False), at),
        )
        return at

    def received(self, kind: str | None = None) -> list[dict[str, Any]]:
        """What arrived, oldest first: ``{"kind", "terminal", "idempotency_key", "payload", "received_at"}``."""
        sql = "SELECT kind, terminal, idempotency_key, payload, received_at FROM received"
        args: tuple[Any, ...] = ()
        if kind is not None:
            sql += " WHERE kind = ?"
            args = (kind,)
        with self.lock:
            rows = self.conn.execute(sql + " ORDER BY seq", args).fetchall()
        return [
            {
                "kind": k,
                "terminal": t,
                "idempotency_key": key,
                "payload": json.loads(p),
                "received_at": at,
            }
            for k, t, key, p, at in rows
        ]

    def clear_received(self) -> None:
        with self.lock:
            self.conn.execute("DELETE FROM received")
