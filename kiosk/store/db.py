"""SQLite connections for the terminal's local stores, set up for power cuts, and the errors
a store raises.

WAL lets the admin screen and ``kiosk outbox status`` read while the worker writes;
``synchronous=FULL`` makes every commit reach the disk before it returns, so a row that was
committed survives the power being cut a millisecond later.

Every sqlite3 or OS error a store meets leaves it as a ``StoreError`` (``store_error``, the
classes live in ``kiosk.errors``): a full disk and a damaged file get their own class, with
words a resident can be shown, so the journey never sees a library exception.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

from kiosk.errors import OutboxLostError, StoreDamagedError, StoreError, StoreFullError

__all__ = ["OutboxLostError", "StoreDamagedError", "StoreError", "StoreFullError", "connect", "store_error"]

# SQLite's primary result codes (an extended code carries one in its low byte)
SQLITE_READONLY = 8
SQLITE_CORRUPT = 11
SQLITE_FULL = 13
SQLITE_NOTADB = 26


def store_error(e: BaseException, what: str) -> StoreError:
    """The ``StoreError`` for a library error met while doing ``what`` (technician text)."""
    if isinstance(e, StoreError):
        return e
    code = getattr(e, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    number = getattr(e, "errno", None)
    text = f"{what}: {e}"
    if primary == SQLITE_FULL or number in (errno.ENOSPC, errno.EDQUOT):
        return StoreFullError(text)
    if primary in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return StoreDamagedError(text)
    if primary == SQLITE_READONLY or number == errno.EROFS:
        return StoreError(f"{text} (read-only)")
    return StoreError(text)


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) a database with the durability settings every store uses."""
    conn = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # autocommit mode: transactions are explicit (BEGIN IMMEDIATE), never implicit
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10.0)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=10000")
    except (sqlite3.Error, OSError) as e:
        if conn is not None:
            conn.close()
        raise store_error(e, f"cannot open {path}") from e
    return conn
