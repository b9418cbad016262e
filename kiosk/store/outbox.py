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

Nothing is lost in silence: a file that is missing, empty, unreadable or holds fewer rows than
its high-water note (``kiosk.store.marker``) says is ``lost`` (every write refused, reported on
the admin screen, by ``kiosk outbox status`` and in the log), and a write the disk refuses
marks the store unwritable until one goes through again. ``check_health`` looks at the disk
and tries a write; ``unavailable_reason`` says, without I/O, why items that need the store
cannot start.
"""

from __future__ import annotations

import fcntl
import json
import logging
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

from kiosk.store.db import (
    OutboxLostError,
    StoreDamagedError,
    StoreError,
    StoreFullError,
    connect,
    store_error,
)
from kiosk.store.health import StoreState, disk_space
from kiosk.store.marker import HighWater

log = logging.getLogger(__name__)

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
CREATE TABLE IF NOT EXISTS store_probe (id INTEGER PRIMARY KEY CHECK (id = 1), at REAL NOT NULL);
"""
PENDING = ("ready", "inflight")
_KEY = re.compile(r"[A-Za-z0-9._:-]{1,128}")  # what the backend accepts in Idempotency-Key
#: what may be queued; each kind has its endpoint in ``kiosk.backend.models.DELIVERY``, or a
#: sender of its own for what takes several calls (``models.SENT_BY_UPLOAD``)
OUTBOX_KINDS = ("rating", "transaction", "device_event", "help_request", "audit", "heartbeat", "application")


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

    def __init__(self, path: Path, *, min_free_bytes: int = 0) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        #: set whenever a row is put, so a waiting worker wakes at once
        self.changed = threading.Event()
        self._worker_lock_fd: int | None = None
        self.mark = HighWater(self.path)
        #: below this much free space on the data dir, nothing new is started
        self.min_free_bytes = min_free_bytes
        #: why the store cannot be used at all (opened lost or damaged), or None
        self.lost: StoreError | None = None
        #: the last write the disk refused; None once one goes through again
        self.write_error: StoreError | None = None
        self._marked = 0
        self._conn: sqlite3.Connection | None = None
        try:
            self._conn = self._open()
        except StoreError as e:
            self.lost = e  # the kiosk logs it and shows it; a command says it in its one line
        self._state = self._look(writable=self._conn is not None)

    # --- opening: an outbox that had rows must still have them ----------------------------------

    def _open(self) -> sqlite3.Connection:
        marked = self.mark.read()
        if marked:
            try:
                size = self.path.stat().st_size
            except FileNotFoundError:
                raise OutboxLostError(self._lost(marked, "missing")) from None
            except OSError as e:
                raise OutboxLostError(self._lost(marked, f"unreadable ({e.strerror})")) from None
            if size == 0:
                raise OutboxLostError(self._lost(marked, "empty (0 bytes)"))
        try:
            seq = self._inspect() if self.path.exists() else 0
        except (sqlite3.Error, StoreError) as e:
            raise self._unopened(e, marked) from e
        if marked and seq < marked:
            raise OutboxLostError(self._lost(marked, f"holds rows up to number {seq} only"))
        try:
            conn = connect(self.path)
            try:
                conn.executescript(SCHEMA)
            except BaseException:
                conn.close()
                raise
        except (sqlite3.Error, StoreError) as e:
            raise self._unopened(e, marked) from e
        self._marked = marked or 0
        self._raise_mark(seq)
        return conn

    def _inspect(self) -> int:
        """A read-only look at the file as found: damaged or not, and the highest row number it
        has held. Nothing is written, so what is left of a lost outbox stays as it was."""
        conn = sqlite3.connect(self.path.resolve().as_uri() + "?mode=ro", uri=True, timeout=10.0)
        try:
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise StoreDamagedError(f"{self.path}: damaged (quick_check: {check})")
            counted = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone()
            return self._high_water(conn) if counted else 0
        finally:
            conn.close()

    def _unopened(self, e: BaseException, marked: int | None) -> StoreError:
        err = store_error(e, f"{self.path}: cannot read")
        if not marked or isinstance(err, StoreFullError):
            return err  # a new store, or no room to open it: not a loss
        # damaged: nothing to wait for; unreadable (permissions ...): opened again once fixed
        kind = OutboxLostError if isinstance(err, StoreDamagedError) else StoreError
        return kind(self._lost(marked, f"unreadable ({e})"))

    def _lost(self, marked: int, how: str) -> str:
        return (f"{self.path} is {how}, but it had held rows (up to number {marked} at least, "
                f"says {self.mark.path.name}): "
                "rows waiting for the backend may be lost; restore the file from a backup, or move it "
                "and the .mark file aside to start an empty outbox (docs/operations.md)")

    def _note_rows(self, conn: sqlite3.Connection) -> None:
        try:
            self._raise_mark(self._high_water(conn))
        except sqlite3.Error as e:
            log.warning("outbox: high-water not read: %s", e)

    @staticmethod
    def _high_water(conn: sqlite3.Connection) -> int:
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").fetchone()
        return int(row[0]) if row else 0

    def _raise_mark(self, seq: int) -> None:
        """Note that the store has held rows up to ``seq`` (a note that fails is retried later)."""
        if seq <= self._marked:
            return
        try:
            self.mark.write(seq)
        except StoreError as e:
            log.warning("outbox: high-water note not written: %s", e)
            return
        self._marked = seq

    def close(self) -> None:
        self.release_worker_lock()
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

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

    def _usable(self) -> sqlite3.Connection:
        if self._conn is None:
            raise self.lost or StoreError(f"{self.path}: not open")
        return self._conn

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction on the outbox's database (the journal writes in it too).

        ``durable=False`` skips the fsync of this commit. Only the worker's bookkeeping uses it
        (in flight, done, retry): losing such a commit in a power cut leaves the row ready, and
        sending it again is harmless because of its idempotency key. It triples throughput.
        A later durable commit makes the earlier ones durable too (same WAL).

        Whatever SQLite or the disk refuses (a full disk, a read-only file system, a damaged
        file) is rolled back and raised as a ``StoreError``, and marks the store unwritable
        until a write goes through again.
        """
        with self._lock:
            conn = self._usable()
            try:
                try:
                    if not durable:
                        conn.execute("PRAGMA synchronous=NORMAL")
                    conn.execute("BEGIN IMMEDIATE")
                except sqlite3.Error as e:
                    raise self._refused(e, "cannot start a transaction") from e
                try:
                    yield conn
                except sqlite3.Error as e:
                    self._rollback(conn)
                    raise self._refused(e, "write failed") from e
                except StoreError as e:
                    self._rollback(conn)
                    raise self._refused(e, "write failed") from None
                except BaseException:
                    self._rollback(conn)
                    raise
                try:
                    conn.execute("COMMIT")
                except sqlite3.Error as e:
                    self._rollback(conn)
                    raise self._refused(e, "commit failed") from e
                self.write_error = None
            finally:
                if not durable:
                    _quietly(conn, "PRAGMA synchronous=FULL")
            if not self._marked:  # the first rows ever: from now on an empty file is a loss
                self._note_rows(conn)

    def _refused(self, e: BaseException, what: str) -> StoreError:
        err = store_error(e, f"{self.path}: {what}")
        if self.write_error is None:
            log.error("outbox: %s", err)
        self.write_error = err
        return err

    @staticmethod
    def _rollback(conn: sqlite3.Connection) -> None:
        if conn.in_transaction:  # SQLite may have rolled back itself (a full disk at COMMIT)
            _quietly(conn, "ROLLBACK")

    def create_schema(self, schema: str) -> bool:
        """Create a store's tables (``;``-separated statements) in this database. A lost or
        unwritable store is logged, not raised: the terminal still starts and reports it."""
        try:
            with self.transaction() as conn:
                for statement in schema.split(";"):
                    if statement.strip():
                        conn.execute(statement)
        except StoreError as e:
            log.error("outbox: tables not created: %s", e)
            return False
        return True

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
            raise store_error(e, "outbox insert failed") from e
        return key

    # --- the worker's side -------------------------------------------------------------------

    def recover(self) -> int:
        """Rows left in flight by a crash are ready again (they may have arrived: the key says).
        A lost outbox has nothing to recover: 0, and the loss is reported elsewhere."""
        if self._conn is None:
            return 0
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
            conn = self._usable()
            try:
                return conn.execute(sql, args).fetchall()
            except sqlite3.Error as e:
                raise store_error(e, str(self.path)) from e

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

    # --- health ----------------------------------------------------------------------------------

    def state(self) -> StoreState:
        """What the last look found (no I/O: the Kivy thread may ask)."""
        return self._state

    def unavailable_reason(self) -> tuple[str, str] | None:
        """Why items that write the store cannot start now, as (zh, en); None when they can."""
        state = self._state
        if state.usable and self.write_error is None and self.lost is None:
            return None
        err = self.lost or self.write_error
        if err is None:
            err = StoreFullError() if state.low_space else StoreError()
        return err.message_zh, err.message_en

    def require_room(self) -> None:
        """Raise ``StoreFullError`` when the data dir has less free space than the minimum, or
        the store's own error when it cannot be written: checked before anything irreversible."""
        if self._conn is None:
            raise self.lost or StoreError(f"{self.path}: not open")
        free, _total = disk_space(self.path.parent)
        if free is not None and free < self.min_free_bytes:
            self._state = self._look(writable=self._state.writable)
            raise StoreFullError(f"{self.path.parent}: {free} bytes free, below the minimum of "
                                 f"{self.min_free_bytes} (storage.min_free_mb)")

    def check_health(self) -> StoreState:
        """Look at the disk and try a small durable write. Blocking (fsync): a worker or the
        store-watch thread. A store that failed to open for want of room is opened again."""
        if self._conn is None and not isinstance(self.lost, StoreDamagedError):
            try:
                with self._lock:
                    self._conn = self._open()
                self.lost = None
                log.info("outbox: %s opened", self.path)
            except StoreError as e:
                self.lost = e
        writable = False
        if self._conn is not None:
            try:
                with self.transaction() as conn:
                    conn.execute("INSERT OR REPLACE INTO store_probe (id, at) VALUES (1, ?)", (time.time(),))
                writable = True
                with self._lock:
                    self._note_rows(self._usable())
            except StoreError:
                writable = False
        self._state = self._look(writable=writable)
        return self._state

    def _look(self, *, writable: bool) -> StoreState:
        free, total = disk_space(self.path.parent)
        problem = self.lost or self.write_error
        text = str(problem) if problem is not None else ""
        if not text and free is not None and free < self.min_free_bytes:
            text = f"less than {self.min_free_bytes // (1024 * 1024)} MiB free (storage.min_free_mb)"
        return StoreState(
            path=str(self.path), free_bytes=free, total_bytes=total, min_free_bytes=self.min_free_bytes,
            writable=writable and self.write_error is None, lost=self.lost is not None, problem=text,
            checked_at=time.time(),
        )


def _quietly(conn: sqlite3.Connection, sql: str) -> None:
    try:
        conn.execute(sql)
    except sqlite3.Error as e:
        log.debug("outbox: %s failed: %s", sql, e)
