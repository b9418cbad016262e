"""The technicians' PIN: salted scrypt hashes, constant-time checks and a lock-out that
survives a restart.

The hash lives in the config file (``admin.pin_hash``, written by ``kiosk set-admin-pin``)
in the form ``scrypt$N$r$p$<salt b64>$<hash b64>``. Wrong attempts and the lock-out deadline
live in ``data_dir/admin.sqlite3``: pulling the power plug must not give a guesser five new
tries. While the entry is locked even the right PIN is refused, so a locked terminal leaks
nothing about the guesses made during the lock-out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kiosk.config import AdminConfig
from kiosk.errors import ConfigError
from kiosk.store.db import connect

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
CREATE TABLE IF NOT EXISTS pin_gate (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    failures INTEGER NOT NULL DEFAULT 0,
    locked_until REAL NOT NULL DEFAULT 0
);
INSERT OR IGNORE INTO pin_gate (id, failures, locked_until) VALUES (1, 0, 0);
"""


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
    """What a PIN check said. ``until`` is a ``time.time()`` value when locked."""

    kind: Literal["ok", "wrong", "locked", "not_set"]
    attempts_left: int = 0
    until: float = 0.0

    @property
    def ok(self) -> bool:
        return self.kind == "ok"


class PinGate:
    """The admin entry: checks PINs, counts wrong ones, locks after ``max_attempts``."""

    def __init__(self, config: AdminConfig, data_dir: Path, now: Callable[[], float] = time.time) -> None:
        self.config = config
        self.now = now
        self.path = Path(data_dir) / "admin.sqlite3"
        self._lock = threading.Lock()
        self._conn = connect(self.path)
        self._conn.executescript(SCHEMA)
        if config.pin_hash:
            parse_pin_hash(config.pin_hash)  # a broken hash is a config error, found at start

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @property
    def pin_set(self) -> bool:
        return bool(self.config.pin_hash)

    def _state(self) -> tuple[int, float]:
        failures, until = self._conn.execute("SELECT failures, locked_until FROM pin_gate WHERE id = 1").fetchone()
        return int(failures), float(until)

    def _save(self, failures: int, until: float) -> None:
        self._conn.execute("UPDATE pin_gate SET failures = ?, locked_until = ? WHERE id = 1", (failures, until))

    def locked_until(self) -> float | None:
        """When the lock-out ends (``time.time()`` value), or None when the entry is open."""
        with self._lock:
            _failures, until = self._state()
        return until if until > self.now() else None

    def attempts_left(self) -> int:
        with self._lock:
            failures, until = self._state()
        if until and until <= self.now():
            return self.config.max_attempts  # the lock-out is over: a fresh set of tries
        return max(0, self.config.max_attempts - failures)

    def check(self, pin: str) -> PinResult:
        """Check one PIN. Blocking (scrypt): call it from a worker, not the UI thread."""
        if not self.pin_set:
            return PinResult("not_set")
        with self._lock:
            failures, until = self._state()
            now = self.now()
            if until > now:
                return PinResult("locked", 0, until)
            if until:  # a lock-out that has run out: start counting again
                failures, until = 0, 0.0
            # a wrong-looking PIN costs a full check as well, so timing says nothing
            right = verify_pin(pin, self.config.pin_hash) and bool(PIN_PATTERN.fullmatch(pin or ""))
            if right:
                self._save(0, 0.0)
                return PinResult("ok", self.config.max_attempts)
            failures += 1
            if failures >= self.config.max_attempts:
                until = now + self.config.lockout_s
                self._save(failures, until)
                return PinResult("locked", 0, until)
            self._save(failures, 0.0)
            return PinResult("wrong", self.config.max_attempts - failures)
