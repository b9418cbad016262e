"""The outbox: everything that must reach the backend, written to disk first.

A completed payment, a rating or a device event is committed here (durable when ``put``
returns) and a ``DeliveryWorker`` sends it later. Each row carries an idempotency key, so
sending a row twice (a crash after the backend applied it, before the row was marked done)
has one effect at the backend. States follow persist-queue's ack queue::

    ready --claim--> inflight --ok--> done
      ^                  |--retryable error--> ready (after a back-off)
      |                  '--refused (not retryable)--> failed (with the reason; kept)
      '--- recover() at start-up: rows in flight during a crash are ready again

Rows of one kind are delivered in the order they were put: a kind's next row waits until the
one before it is done or failed.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.store.db import StoreError, connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'ready' CHECK (state IN ('ready', 'inflight', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (state, kind, seq);
"""
PENDING = ("ready", "inflight")
_KEY = re.compile(r"[A-Za-z0-9._:-]{1,128}")  # what the backend accepts in Idempotency-Key
#: what may be queued; each kind has its endpoint in ``kiosk.backend.models.DELIVERY``
OUTBOX_KINDS = ("rating", "transaction", "device_event", "help_request", "audit", "heartbeat")


@dataclass(frozen=True)
class OutboxItem:
    seq: int
    key: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    created_at: float


class Outbox:
    """A durable, ordered, idempotent queue in one SQLite file. Thread-safe."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._conn = connect(self.path)
        self._conn.executescript(SCHEMA)
        #: set whenever a row is put, so a waiting worker wakes at once
        self.changed = threading.Event()
        self._worker_lock_fd: int | None = None

    def close(self) -> None:
        self.release_worker_lock()
        with self._lock:
            self._conn.close()

    # --- one delivering process at a time --------------------------------------------------

    def try_lock_worker(self) -> bool:
        """Become the one process that delivers (and may recover rows in flight).

        An advisory lock on a file beside the database: the kernel drops it when the process
        dies, so a kiosk restarted by its watchdog takes over at once. ``kiosk outbox flush``
        while the kiosk runs does not get it, and then leaves the kiosk's rows in flight alone.
        """
        if self._worker_lock_fd is not None:
            return True
        fd = os.open(f"{self.path}.worker-lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._worker_lock_fd = fd
        return True

    def release_worker_lock(self) -> None:
        if self._worker_lock_fd is not None:
            os.close(self._worker_lock_fd)  # closing drops the flock
            self._worker_lock_fd = None

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction on the outbox's database (the journal writes in it too).

        ``durable=False`` skips the fsync of this commit. Only the worker's bookkeeping uses it
        (in flight, done, retry): losing such a commit in a power cut leaves the row ready, and
        sending it again is harmless because of its idempotency key. It triples throughput.
        A later durable commit makes the earlier ones durable too (same WAL).
        """
        with self._lock:
            try:
                if not durable:
                    self._conn.execute("PRAGMA synchronous=NORMAL")
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as e:
                raise StoreError(f"{self.path}: cannot start a transaction: {e}") from e
            try:
                try:
                    yield self._conn
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                try:
                    self._conn.execute("COMMIT")
                except sqlite3.Error as e:
                    raise StoreError(f"{self.path}: commit failed: {e}") from e
            finally:
                if not durable:
                    self._conn.execute("PRAGMA synchronous=FULL")

    # --- writing ---------------------------------------------------------------------------------

    def put(self, kind: str, payload: dict, idempotency_key: str | None = None) -> str:
        """Queue ``payload``; durable on return. Putting the same key again adds nothing."""
        with self.transaction() as conn:
            key = self.insert(conn, kind, payload, idempotency_key)
        self.changed.set()
        return key

    @staticmethod
    def insert(
        conn: sqlite3.Connection, kind: str, payload: dict, idempotency_key: str | None = None
    ) -> str:
        """Insert inside a caller's transaction (see ``transaction``)."""
        if kind not in OUTBOX_KINDS:
            raise ValueError(f"unknown outbox kind {kind!r}; one of {', '.join(OUTBOX_KINDS)}")
        key = idempotency_key or f"{kind}-{uuid.uuid4().hex}"
        if not _KEY.fullmatch(key):
            raise ValueError(f"idempotency key {key!r}: 1 to 128 of A-Z a-z 0-9 . _ : -")
        data = json.dumps(payload, ensure_ascii=False, sort_keys=True)
        now = time.time()
        try:
            conn.execute(
                "INSERT OR IGNORE INTO outbox (key, kind, payload, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                (key, kind, data, now, now),
            )
        except sqlite3.Error as e:
            raise StoreError(f"outbox insert failed: {e}") from e
        return key

    # --- the worker's side -------------------------------------------------------------------

    def recover(self) -> int:
        """Rows left in flight by a crash are ready again (they may have arrived: the key says)."""
        with self.transaction() as conn:
            cur = conn.execute(
                "UPDATE outbox SET state='ready', updated_at=? WHERE state='inflight'",
                (time.time(),),
            )
        return cur.rowcount

    def claim(self, now: float | None = None, *, ignore_backoff: bool = False) -> OutboxItem | None:
        """Take the oldest deliverable row: the head of its kind, ready and not backing off."""
        now = time.time() if now is None else now
        limit = float("inf") if ignore_backoff else now
        with self.transaction(durable=False) as conn:
            row = conn.execute(
                """SELECT seq, key, kind, payload, attempts, created_at FROM outbox
                   WHERE seq IN (SELECT MIN(seq) FROM outbox WHERE state IN ('ready', 'inflight') GROUP BY kind)
                     AND state = 'ready' AND next_attempt_at <= ?
                   ORDER BY seq LIMIT 1""",
                (limit,),
            ).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE outbox SET state='inflight', attempts=attempts+1, updated_at=? WHERE seq=?",
                (now, row[0]),
            )
        return OutboxItem(row[0], row[1], row[2], json.loads(row[3]), row[4] + 1, row[5])

    def mark_done(self, seq: int) -> None:
        self._set(seq, "done", "", 0.0, durable=False)

    def mark_retry(self, seq: int, error: str, delay_s: float) -> None:
        self._set(seq, "ready", error, time.time() + delay_s, durable=False)

    def mark_failed(self, seq: int, reason: str) -> None:
        self._set(seq, "failed", reason, 0.0, durable=True)  # a refusal is news for a technician

    def _set(self, seq: int, state: str, error: str, next_at: float, *, durable: bool) -> None:
        with self.transaction(durable=durable) as conn:
            conn.execute(
                "UPDATE outbox SET state=?, last_error=?, next_attempt_at=?, updated_at=? WHERE seq=?",
                (state, error[:500], next_at, time.time(), seq),
            )

    def release_backoff(self) -> None:
        """The backend is back: rows waiting out a back-off may go now."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET next_attempt_at=0 WHERE state='ready' AND next_attempt_at > 0"
            )

    def requeue_failed(self, key: str | None = None) -> int:
        """A technician's "send again" for failed rows (all, or one key)."""
        sql = (
            "UPDATE outbox SET state='ready', next_attempt_at=0, updated_at=? WHERE state='failed'"
        )
        args: tuple[Any, ...] = (time.time(),)
        if key is not None:
            sql += " AND key=?"
            args += (key,)
        with self.transaction() as conn:
            n = conn.execute(sql, args).rowcount
        self.changed.set()
        return n

    def purge_done(self, older_than_s: float = 30 * 86400) -> int:
        with self.transaction() as conn:
            return conn.execute(
                "DELETE FROM outbox WHERE state='done' AND updated_at < ?",
                (time.time() - older_than_s,),
            ).rowcount

    # --- reading ---------------------------------------------------------------------------------

    def query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._conn.execute(sql, args).fetchall()
            except sqlite3.Error as e:
                raise StoreError(f"{self.path}: {e}") from e

    def depth(self) -> int:
        """Rows not yet delivered (ready or in flight); failed rows are counted in ``stats``."""
        return self.query("SELECT COUNT(*) FROM outbox WHERE state IN ('ready', 'inflight')")[0][0]

    def oldest_age_s(self) -> float | None:
        oldest = self.query(
            "SELECT MIN(created_at) FROM outbox WHERE state IN ('ready', 'inflight')"
        )[0][0]
        return None if oldest is None else max(0.0, time.time() - oldest)

    def stats(self) -> dict[str, Any]:
        counts = {s: 0 for s in ("ready", "inflight", "done", "failed")}
        by_kind: dict[str, int] = {}
        for state, kind, n in self.query(
            "SELECT state, kind, COUNT(*) FROM outbox GROUP BY state, kind"
        ):
            counts[state] += n
            if state in PENDING:
                by_kind[kind] = by_kind.get(kind, 0) + n
        last = self.query(
            "SELECT last_error FROM outbox WHERE last_error != '' ORDER BY updated_at DESC LIMIT 1"
        )
        age = self.oldest_age_s()
        return {
            "depth": counts["ready"] + counts["inflight"],
            **counts,
            "pending_by_kind": by_kind,
            "oldest_age_s": None if age is None else round(age, 1),
            "last_error": last[0][0] if last else "",
        }

    def items(self, state: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Rows for the admin screen and tests, oldest first (payloads hold masked data only)."""
        sql = "SELECT seq, key, kind, payload, state, attempts, last_error, created_at FROM outbox"
        args: tuple[Any, ...] = ()
        if state is not None:
            sql += " WHERE state = ?"
            args = (state,)
        rows = self.query(sql + " ORDER BY seq LIMIT ?", args + (limit,))
        return [
            {
                "seq": s,
                "key": k,
                "kind": kd,
                "payload": json.loads(p),
                "state": st,
                "attempts": a,
                "last_error": e,
                "created_at": c,
            }
            for s, k, kd, p, st, a, e, c in rows
        ]
