"""The technicians' PIN: salted scrypt hashes, constant-time checks and a lock-out that
neither a restart, nor a moved clock, nor a deleted file, nor many guessers at once can lift.

The hash lives in the config file (``admin.pin_hash``, written by ``kiosk set-admin-pin``)
in the form ``scrypt$N$r$p$<salt b64>$<hash b64>``. While the entry is locked even the right
PIN is refused, so a locked terminal leaks nothing about the guesses made during the lock-out.

Attempts are counted in ``data_dir/admin.sqlite3``, in SQLite rather than in a flock'd file
because the count, the lock and the reason must change together and survive a power cut, which
a committed transaction gives and a rewritten file does not without more care:

* every attempt is reserved before its PIN is checked, inside ``BEGIN IMMEDIATE`` (one writer
  at a time, across processes), and settled after; so however many processes guess at once,
  at most ``max_attempts`` PINs are checked before the lock engages, and a guesser killed
  between the two has spent the attempt;
* the lock's duration is measured on ``CLOCK_BOOTTIME`` (seconds since boot, suspend
  included, which no one can set), never on the wall clock; a wall clock that moved during
  the lock is logged. After a reboot the time already served cannot be measured, so the lock
  starts again in full: a power cycle costs a guesser time, never gives tries;
* the first attempt leaves a note beside the file (``kiosk.store.marker``): a lock store that
  is missing, empty or unreadable after that fails closed, locked for ``lockout_s`` with the
  reason in the log, and is rebuilt locked (the remains kept aside). No file and no note is a
  new terminal: unlocked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kiosk.config import AdminConfig
from kiosk.errors import ConfigError, StoreError
from kiosk.store.db import connect
from kiosk.store.marker import HighWater

log = logging.getLogger(__name__)

#: the PIN a technician types: digits only, 6 to 8 of them (a numeric keypad, no free text)
PIN_PATTERN = re.compile(r"^[0-9]{6,8}$")  # ASCII only: \d would take full-width digits

# scrypt cost: about 16 MiB and a few tens of ms per check on the terminal's CPU
SCRYPT_N = 16384
SCRYPT_R = 8
SCRYPT_P = 1
_SALT_BYTES = 16
_KEY_BYTES = 32
# refuse parameters that would make one check take minutes (a hand-edited config file)
_MAX_N = 1 << 20
_MAXMEM = 1 << 30

SCHEMA = """
CREATE TABLE IF NOT EXISTS pin_lock (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    failures INTEGER NOT NULL DEFAULT 0,  -- attempts reserved since the last success or lock-out
    boot_id TEXT NOT NULL DEFAULT '',  -- the boot the lock is measured in; '' when not locked
    locked_at_boot REAL NOT NULL DEFAULT 0,  -- CLOCK_BOOTTIME when the lock began
    locked_at_wall REAL NOT NULL DEFAULT 0,  -- the wall clock then: only to notice it moving
    lock_s REAL NOT NULL DEFAULT 0,
    jump_logged REAL NOT NULL DEFAULT 0,  -- the wall-clock jump last written to the log
    reason TEXT NOT NULL DEFAULT ''
);
"""
COLUMNS = ("failures", "boot_id", "locked_at_boot", "locked_at_wall", "lock_s", "jump_logged", "reason")
#: a wall clock this far from the boot clock's account of the lock is worth a log line
CLOCK_JUMP_S = 120.0
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def boot_clock() -> tuple[str, float]:
    """(this boot's id, seconds since boot): a clock nobody can set, and which boot it counts."""
    try:
        boot_id = BOOT_ID.read_text().strip()
    except OSError:
        boot_id = "unknown"
    return boot_id, time.clock_gettime(getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_pin(pin: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """A fresh salted hash of ``pin`` (6-8 digits), in the config file's format."""
    if not PIN_PATTERN.fullmatch(pin or ""):
        raise ValueError("a PIN has 6 to 8 digits")
    salt = secrets.token_bytes(_SALT_BYTES)
    key = hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=_KEY_BYTES)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(key)}"


def parse_pin_hash(stored: str) -> tuple[int, int, int, bytes, bytes]:
    """Split a stored hash into (n, r, p, salt, key); ``ConfigError`` when it is malformed."""
    parts = (stored or "").split("$")
    try:
        if len(parts) != 6 or parts[0] != "scrypt":
            raise ValueError("expected scrypt$N$r$p$salt$hash")
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        if n < 2 or n & (n - 1) or n > _MAX_N or not (1 <= r <= 32) or not (1 <= p <= 16):
            raise ValueError(f"unreasonable scrypt parameters N={n} r={r} p={p}")
        salt = base64.b64decode(parts[4], validate=True)
        key = base64.b64decode(parts[5], validate=True)
        if len(salt) < 8 or len(key) < 16:
            raise ValueError("salt or hash too short")
    except (ValueError, TypeError) as e:  # binascii.Error is a ValueError
        raise ConfigError(f"admin.pin_hash: not a valid PIN hash ({e}); set it with 'kiosk set-admin-pin'") from None
    return n, r, p, salt, key


def verify_pin(pin: str, stored: str) -> bool:
    """Whether ``pin`` matches ``stored``; the comparison takes the same time either way."""
    n, r, p, salt, key = parse_pin_hash(stored)
    candidate = hashlib.scrypt(
        (pin or "").encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=len(key)
    )
    return hmac.compare_digest(candidate, key)


@dataclass(frozen=True)
class PinResult:
    """What a PIN check said. ``until`` is a ``time.time()`` value when locked (for the screen:
    the lock itself keeps boot time); ``checked`` says whether this PIN was compared at all;
    ``reason`` is technician text when the lock store failed closed."""

    kind: Literal["ok", "wrong", "locked", "not_set"]
    attempts_left: int = 0
    until: float = 0.0
    checked: bool = False
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.kind == "ok"


class PinGate:
    """The admin entry: checks PINs, counts attempts, locks after ``max_attempts``."""

    def __init__(
        self,
        config: AdminConfig,
        data_dir: Path,
        now: Callable[[], float] = time.time,
        clock: Callable[[], tuple[str, float]] = boot_clock,
    ) -> None:
        self.config = config
        self.now = now
        self.clock = clock
        self.path = Path(data_dir) / "admin.sqlite3"
        self.mark = HighWater(self.path)
        self._lock = threading.Lock()
        if config.pin_hash:
            parse_pin_hash(config.pin_hash)  # a broken hash is a config error, found at start
        #: why the gate failed closed and could not even rebuild its store ('' normally)
        self.problem = ""
        self._conn: sqlite3.Connection | None = None
        self._open()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @property
    def pin_set(self) -> bool:
        return bool(self.config.pin_hash)

    # --- the store: fails closed once it has counted anything --------------------------------

    def _open(self) -> None:
        marked = self.mark.read() is not None
        why = ""
        if marked and not self.path.exists():
            why = "missing"
        elif marked and self.path.is_file() and self.path.stat().st_size == 0:
            why = "empty (0 bytes)"
        else:
            try:
                self._conn = self._connect(create=not marked)
            except (sqlite3.Error, StoreError) as e:
                why = f"unreadable ({e})"
            else:
                if not marked and self._counted_anything():
                    self._note()  # a store from before the note existed
                return
        self._fail_closed(f"{self.path} is {why} although attempts had been recorded"
                          if marked else f"{self.path} is {why}")

    def _connect(self, *, create: bool) -> sqlite3.Connection:
        """Open the store; ``create``: a new one may be made (else a missing table or row is
        a loss, never a fresh start)."""
        conn = connect(self.path)
        try:
            if create:
                conn.executescript(SCHEMA + "INSERT OR IGNORE INTO pin_lock (id) VALUES (1);")
            if conn.execute("SELECT 1 FROM pin_lock WHERE id = 1").fetchone() is None:
                raise StoreError(f"{self.path}: the lock row is gone")
            self._migrate(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _migrate(self, conn: sqlite3.Connection) -> None:
        """A store written before boot time was kept: its count, and a lock still running by
        its wall clock, carry over (the lock then runs in boot time)."""
        old = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'pin_gate'").fetchone()
        if old is None:
            return
        failures, until = conn.execute("SELECT failures, locked_until FROM pin_gate WHERE id = 1").fetchone()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE pin_lock SET failures = ? WHERE id = 1", (int(failures),))
        left = min(float(until) - self.now(), float(self.config.lockout_s))
        if left > 0:
            self._engage(conn, left, "carried over from the previous lock store")
        conn.execute("DROP TABLE pin_gate")
        conn.execute("COMMIT")

    def _counted_anything(self) -> bool:
        assert self._conn is not None
        failures, boot_id = self._conn.execute("SELECT failures, boot_id FROM pin_lock WHERE id = 1").fetchone()
        return bool(failures or boot_id)

    def _note(self) -> None:
        """From now on, losing the store locks the entry."""
        if self.mark.read() is None:
            try:
                self.mark.write(1)
            except StoreError as e:
                log.warning("admin PIN: note beside the lock store not written: %s", e)

    def _fail_closed(self, why: str) -> None:
        """Lock for ``lockout_s``: keep what is left of the store aside and start a locked one."""
        log.error("admin PIN entry locked for %d s: %s", self.config.lockout_s, why)
        try:
            if self.path.exists() or self.path.is_symlink():
                aside = self.path.with_name(f"{self.path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
                self.path.rename(aside)
                log.error("admin PIN: the old lock store is kept as %s", aside.name)
            for suffix in ("-wal", "-shm"):
                self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)
            conn = self._connect(create=True)
            conn.execute("BEGIN IMMEDIATE")
            self._engage(conn, float(self.config.lockout_s), why)
            conn.execute("UPDATE pin_lock SET failures = ? WHERE id = 1", (self.config.max_attempts,))
            conn.execute("COMMIT")
            self._conn = conn
            self._note()
        except (OSError, sqlite3.Error, StoreError) as e:
            self.problem = f"{why}; cannot rebuild it: {e}"
            log.error("admin PIN entry stays locked until the lock store is repaired: %s", self.problem)

    # --- the lock, in boot time ----------------------------------------------------------------

    def _row(self, conn: sqlite3.Connection) -> dict:
        row = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM pin_lock WHERE id = 1").fetchone()
        return dict(zip(COLUMNS, row, strict=True))

    def _engage(self, conn: sqlite3.Connection, lock_s: float, reason: str = "") -> None:
        boot_id, boot_now = self.clock()
        conn.execute(
            "UPDATE pin_lock SET boot_id = ?, locked_at_boot = ?, locked_at_wall = ?, lock_s = ?, jump_logged = 0,"
            " reason = ? WHERE id = 1",
            (boot_id, boot_now, self.now(), lock_s, reason),
        )

    def _left(self, conn: sqlite3.Connection, row: dict) -> float | None:
        """Seconds the lock still runs (> 0), 0.0 when it has run out, None when not locked."""
        if not row["boot_id"]:
            return None
        boot_id, boot_now = self.clock()
        if row["boot_id"] != boot_id:
            log.warning("admin PIN lock-out: the terminal was restarted during it; it runs %d s again from now",
                        row["lock_s"])
            self._engage(conn, row["lock_s"], row["reason"])
            return float(row["lock_s"])
        elapsed = boot_now - row["locked_at_boot"]
        jump = (self.now() - row["locked_at_wall"]) - elapsed
        if abs(jump - row["jump_logged"]) > CLOCK_JUMP_S:
            log.warning("admin PIN lock-out: the wall clock moved %+.0f s since the lock began; "
                        "the lock keeps boot time (%.0f s left)", jump, row["lock_s"] - elapsed)
            conn.execute("UPDATE pin_lock SET jump_logged = ? WHERE id = 1", (jump,))
        return max(0.0, row["lock_s"] - elapsed)

    def _locked(self, left: float, reason: str = "") -> PinResult:
        return PinResult("locked", 0, self.now() + left, reason=reason)

    def _closed(self) -> PinResult:
        return self._locked(float(self.config.lockout_s), self.problem)

    def _transaction(self, work: Callable[[sqlite3.Connection], object]) -> object:
        """``work`` inside ``BEGIN IMMEDIATE``: one writer at a time, in every process."""
        assert self._conn is not None
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result
        except sqlite3.Error as e:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise StoreError(f"{self.path}: {e}", message_zh="维护入口暂时无法验证，请稍后再试",
                             message_en="The maintenance entry cannot check PINs right now") from e

    # --- what the screen asks -------------------------------------------------------------------

    def locked_until(self) -> float | None:
        """When the lock-out ends (a ``time.time()`` value, for the screen), or None when open."""
        with self._lock:
            if self._conn is None:
                return self._closed().until

            def look(conn: sqlite3.Connection) -> float | None:
                left = self._left(conn, self._row(conn))
                return self.now() + left if left else None

            return self._transaction(look)  # type: ignore[return-value]

    def attempts_left(self) -> int:
        with self._lock:
            if self._conn is None:
                return 0

            def look(conn: sqlite3.Connection) -> int:
                row = self._row(conn)
                left = self._left(conn, row)
                if left:
                    return 0
                if left == 0.0:
                    return self.config.max_attempts  # the lock-out is over: a fresh set of tries
                return max(0, self.config.max_attempts - row["failures"])

            return self._transaction(look)  # type: ignore[return-value]

    def check(self, pin: str) -> PinResult:
        """Check one PIN. Blocking (scrypt): call it from a worker, not the UI thread."""
        if not self.pin_set:
            return PinResult("not_set")
        with self._lock:
            if self._conn is None:
                return self._closed()
            refused = self._transaction(self._reserve)
        if refused is not None:
            return refused  # type: ignore[return-value]
        self._note()
        # a wrong-looking PIN costs a full check as well, so timing says nothing
        right = verify_pin(pin, self.config.pin_hash) and bool(PIN_PATTERN.fullmatch(pin or ""))
        with self._lock:
            return self._transaction(lambda conn: self._settle(conn, right))  # type: ignore[return-value]

    def _reserve(self, conn: sqlite3.Connection) -> PinResult | None:
        """Take one attempt before checking, or say why not (locked)."""
        row = self._row(conn)
        left = self._left(conn, row)
        if left:
            return self._locked(left, row["reason"])
        failures = row["failures"]
        if left == 0.0:  # a lock-out that has run out: start counting again
            conn.execute("UPDATE pin_lock SET boot_id = '', reason = '' WHERE id = 1")
            failures = 0
        if failures >= self.config.max_attempts:  # others hold the last attempts
            self._engage(conn, float(self.config.lockout_s))
            return self._locked(float(self.config.lockout_s))
        conn.execute("UPDATE pin_lock SET failures = ? WHERE id = 1", (failures + 1,))
        return None

    def _settle(self, conn: sqlite3.Connection, right: bool) -> PinResult:
        max_attempts = self.config.max_attempts
        if right:
            conn.execute("UPDATE pin_lock SET failures = 0, boot_id = '', reason = '' WHERE id = 1")
            return PinResult("ok", max_attempts, checked=True)
        row = self._row(conn)
        left = self._left(conn, row)
        if left:
            return PinResult("locked", 0, self.now() + left, checked=True)
        if row["failures"] >= max_attempts:
            self._engage(conn, float(self.config.lockout_s))
            return PinResult("locked", 0, self.now() + self.config.lockout_s, checked=True)
        return PinResult("wrong", max_attempts - row["failures"], checked=True)
