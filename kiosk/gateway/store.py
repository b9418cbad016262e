"""The gateway's database: engine, schema version, and what the terminal API keeps.

SQLite (a file, nothing to install) by default; PostgreSQL for a county's production. Every
fact two gateway processes must agree on lives here, never in a process's memory: the nonces
(a replay is refused by whichever process sees it), the idempotency keys (a write is applied
once whichever process gets it, and a concurrent duplicate waits its turn), the terminals'
secrets. Unique constraints decide races; nothing relies on a lock inside one process.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, delete, event, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from kiosk.backend.signing import MAX_SKEW_S
from kiosk.errors import ConfigError
from kiosk.gateway import schema as s

log = logging.getLogger(__name__)

#: how long answers are kept for resends: heartbeats a day, everything else past the
#: terminal's own outbox retention
KEEP_IDEMPOTENCY_S = {"heartbeat": 86400.0}
KEEP_IDEMPOTENCY_DEFAULT_S = 35 * 86400.0
KEEP_RECEIVED_HEARTBEATS_S = 7 * 86400.0
#: a claimed write whose process died is taken over after this long
PENDING_LEASE_S = 60.0


class IdempotencyConflict(Exception):
    """The key was already used for a different request."""


class InProgress(Exception):
    """Another request with the same key is being applied right now."""


def now_iso(ts: float | None = None) -> str:
    t = dt.datetime.fromtimestamp(ts if ts is not None else time.time(), dt.UTC)
    return t.astimezone().isoformat(timespec="seconds")


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def make_engine(url: str, *, pool_size: int = 16) -> Engine:
    """An engine for ``url`` (``sqlite:///FILE`` or ``postgresql+psycopg://...``)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_size=pool_size,
            max_overflow=4,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # transactions are begun below, IMMEDIATE for writes
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            # a write takes the lock at BEGIN: a deferred transaction that reads and then
            # writes could find another process's commit in between and fail at once (BUSY)
            immediate = conn.get_execution_options().get("immediate", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    if url.startswith("postgresql+psycopg://"):
        return create_engine(url, pool_size=pool_size, max_overflow=4, pool_pre_ping=True)
    raise ConfigError(f"database URL {url!r}: expected sqlite:///FILE or postgresql://...")


def create(engine: Engine) -> None:
    """Create the tables of a new database and stamp its version; check an existing one."""
    with engine.connect().execution_options(immediate=True) as conn, conn.begin():
        if engine.dialect.name == "postgresql":  # two gateways starting at once: one creates
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7316001)")
        s.metadata.create_all(conn)
        row = conn.execute(select(s.meta.c.value).where(s.meta.c.key == "schema_version")).first()
        if row is None:
            conn.execute(insert(s.meta).values(key="schema_version", value=str(s.SCHEMA_VERSION)))
    check_version(engine)


def check_version(engine: Engine) -> int:
    with engine.connect() as conn:
        try:
            row = conn.execute(
                select(s.meta.c.value).where(s.meta.c.key == "schema_version")
            ).first()
        except OperationalError as e:
            raise ConfigError(f"gateway database: no schema ({e.orig})") from None
    version = int(row[0]) if row else 0
    if version != s.SCHEMA_VERSION:
        raise ConfigError(
            f"gateway database has schema version {version}, this gateway needs "
            f"{s.SCHEMA_VERSION}: see docs/gateway.md (upgrades)"
        )
    return version


def body_hash(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class Store:
    """The database of one gateway process (several processes may share it)."""

    def __init__(self, url: str, *, pool_size: int = 16) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size)
        create(self.engine)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._last_purge = 0.0
        #: writes answered from the idempotency store: resends that had no second effect
        self.replays = 0

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def write(self, *, lazy: bool = False) -> Iterator[Connection]:
        """A write transaction. ``lazy``: the commit need not wait for the disk (PostgreSQL's
        asynchronous commit), for facts whose loss in a database crash does no harm: a nonce
        (a replay within the next second would meet the idempotency key, or only read) and a
        write's claim (the platform applies the key once). SQLite in WAL mode with
        synchronous=NORMAL never waits for the disk at commit anyway."""
        with self.engine.connect().execution_options(immediate=True) as conn, conn.begin():
            if lazy and not self.is_sqlite:
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    # --- terminals and their secrets ---------------------------------------------------------

    def secret_for(self, terminal_id: str) -> bytes | None:
        with self.read() as conn:
            row = conn.execute(
                select(s.terminals.c.secret, s.terminals.c.active).where(
                    s.terminals.c.terminal_id == terminal_id
                )
            ).first()
        if row is None or not row.active or not row.secret:
            return None
        return row.secret.encode()

    def provision(
        self, terminal_id: str, secret: bytes, *, name: str = "", township: str = ""
    ) -> None:
        """Add a terminal, or give an existing one a new secret (and name, township if given)."""
        if not secret:
            raise ConfigError(f"terminal {terminal_id}: empty secret")
        values = {"secret": secret.decode(), "active": True}
        with self.write() as conn:
            found = conn.execute(
                select(s.terminals.c.terminal_id).where(s.terminals.c.terminal_id == terminal_id)
            ).first()
            if found is None:
                conn.execute(
                    insert(s.terminals).values(
                        terminal_id=terminal_id, name=name, township=township,
                        created_at=time.time(), **values,
                    )
                )
            else:
                if name:
                    values["name"] = name
                if township:
                    values["township"] = township
                conn.execute(
                    update(s.terminals).where(s.terminals.c.terminal_id == terminal_id).values(**values)
                )

    def revoke(self, terminal_id: str) -> None:
        with self.write() as conn:
            conn.execute(
                update(s.terminals)
                .where(s.terminals.c.terminal_id == terminal_id)
                .values(active=False, secret="")
            )

    def terminal_ids(self) -> list[str]:
        with self.read() as conn:
            return [r[0] for r in conn.execute(
                select(s.terminals.c.terminal_id).where(s.terminals.c.active.is_(True))
                .order_by(s.terminals.c.terminal_id)
            )]

    # --- replay protection -------------------------------------------------------------------

    def remember_nonce(self, terminal_id: str, nonce: str, ts: int) -> bool:
        """Store the nonce; False if any gateway process has seen it before."""
        self._purge()
        try:
            with self.write(lazy=True) as conn:
                conn.execute(insert(s.nonces).values(terminal_id=terminal_id, nonce=nonce, ts=ts))
        except IntegrityError:
            return False
        return True

    def _purge(self) -> None:
        now = time.time()
        if now - self._last_purge < 60:
            return
        self._last_purge = now
        with self.write() as conn:
            # a nonce older than the skew window can never be accepted again anyway
            conn.execute(delete(s.nonces).where(s.nonces.c.ts < int(now) - 2 * MAX_SKEW_S))
            for route, keep in KEEP_IDEMPOTENCY_S.items():
                conn.execute(delete(s.idempotency).where(
                    s.idempotency.c.route == route, s.idempotency.c.created_at < now - keep))
            conn.execute(delete(s.idempotency).where(
                s.idempotency.c.created_at < now - KEEP_IDEMPOTENCY_DEFAULT_S))
            conn.execute(delete(s.received).where(
                s.received.c.kind == "heartbeat", s.received.c.ts < now - KEEP_RECEIVED_HEARTBEATS_S))

    # --- idempotent writes -------------------------------------------------------------------

    def _stored(self, conn: Connection, terminal_id: str, key: str) -> Any:
        return conn.execute(
            select(s.idempotency).where(
                s.idempotency.c.terminal_id == terminal_id, s.idempotency.c.key == key
            )
        ).first()

    def _replay(self, row: Any, route: str, digest: str) -> tuple[int, dict[str, Any]] | None:
        if row is None:
            return None
        if row.route != route or row.body_hash != digest:
            raise IdempotencyConflict(row.key)
        if row.state != "done":
            if time.time() - row.created_at < PENDING_LEASE_S:
                raise InProgress(row.key)
            return None  # its process died: the caller may take it over
        self.replays += 1
        return row.status, json.loads(row.response)

    def replay(self, terminal_id: str, key: str, route: str, body: Any) -> tuple[int, dict[str, Any]] | None:
        """The stored answer for this key, if the request was applied before."""
        with self.read() as conn:
            return self._replay(self._stored(conn, terminal_id, key), route, body_hash(body))

    def local_write(
        self,
        terminal_id: str,
        key: str,
        route: str,
        body: Any,
        effect: Callable[[Connection], tuple[int, dict[str, Any]]],
        *,
        lazy: bool = False,
    ) -> tuple[int, dict[str, Any]]:
        """A write whose effect is in this database: effect and stored answer in one
        transaction, so it happens once whichever process gets the key first. ``lazy`` as
        for ``write`` (a heartbeat: the next one says the same again)."""
        digest = body_hash(body)
        with self.read() as conn:
            done = self._replay(self._stored(conn, terminal_id, key), route, digest)
        if done is not None:
            return done
        try:
            with self.write(lazy=lazy) as conn:
                status, answer = effect(conn)
                if status >= 500:
                    raise _Rollback(status, answer)
                conn.execute(insert(s.idempotency).values(
                    terminal_id=terminal_id, key=key, route=route, body_hash=digest, state="done",
                    status=status, response=json.dumps(answer, ensure_ascii=False),
                    created_at=time.time(),
                ))
        except _Rollback as r:
            return r.status, r.answer
        except IntegrityError:
            # the same key committed by another request meanwhile: its answer is the answer
            with self.read() as conn:
                done = self._replay(self._stored(conn, terminal_id, key), route, digest)
            if done is None:
                raise
            return done
        return status, answer

    def remote_write(
        self,
        terminal_id: str,
        key: str,
        route: str,
        body: Any,
        effect: Callable[[], tuple[int, dict[str, Any]]],
    ) -> tuple[int, dict[str, Any]]:
        """A write whose effect is on the platform: claim the key, apply, store the answer.
        A concurrent duplicate is told to try again (``InProgress``) instead of applying it
        twice; a claim left by a process that died is taken over after ``PENDING_LEASE_S``."""
        digest = body_hash(body)
        now = time.time()
        with self.write(lazy=True) as conn:
            row = self._stored(conn, terminal_id, key)
            done = self._replay(row, route, digest)
            if done is not None:
                return done
            if row is None:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(s.idempotency).values(
                            terminal_id=terminal_id, key=key, route=route, body_hash=digest,
                            state="pending", created_at=now,
                        ))
                except IntegrityError:
                    raise InProgress(key) from None
            else:  # a stale claim: take it over, unless another process just did
                taken = conn.execute(
                    update(s.idempotency)
                    .where(s.idempotency.c.terminal_id == terminal_id, s.idempotency.c.key == key,
                           s.idempotency.c.state == "pending",
                           s.idempotency.c.created_at == row.created_at)
                    .values(created_at=now)
                )
                if taken.rowcount != 1:
                    raise InProgress(key)
        try:
            status, answer = effect()
        except BaseException:
            self._release(terminal_id, key)
            raise
        if status >= 500:
            self._release(terminal_id, key)
            return status, answer
        with self.write() as conn:
            conn.execute(
                update(s.idempotency)
                .where(s.idempotency.c.terminal_id == terminal_id, s.idempotency.c.key == key)
                .values(state="done", status=status,
                        response=json.dumps(answer, ensure_ascii=False))
            )
        return status, answer

    def _release(self, terminal_id: str, key: str) -> None:
        with self.write() as conn:
            conn.execute(delete(s.idempotency).where(
                s.idempotency.c.terminal_id == terminal_id, s.idempotency.c.key == key,
                s.idempotency.c.state == "pending"))

    # --- what terminals sent -----------------------------------------------------------------

    def add_received(
        self, conn: Connection, kind: str, terminal_id: str, key: str, payload: dict[str, Any]
    ) -> str:
        now = time.time()
        at = now_iso(now)
        conn.execute(insert(s.received).values(
            kind=kind, terminal_id=terminal_id, idempotency_key=key,
            payload=json.dumps(payload, ensure_ascii=False), received_at=at, ts=now,
        ))
        return at

    def received(self, kind: str | None = None) -> list[dict[str, Any]]:
        """What arrived, oldest first: ``{"kind", "terminal", "idempotency_key", "payload", "received_at"}``."""
        q = select(s.received).order_by(s.received.c.seq)
        if kind is not None:
            q = q.where(s.received.c.kind == kind)
        with self.read() as conn:
            rows = conn.execute(q).all()
        return [
            {"kind": r.kind, "terminal": r.terminal_id, "idempotency_key": r.idempotency_key,
             "payload": json.loads(r.payload), "received_at": r.received_at}
            for r in rows
        ]

    def clear_received(self) -> None:
        with self.write() as conn:
            conn.execute(delete(s.received))


class _Rollback(Exception):
    def __init__(self, status: int, answer: dict[str, Any]) -> None:
        super().__init__(status)
        self.status, self.answer = status, answer
