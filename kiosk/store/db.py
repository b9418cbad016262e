"""SQLite connections for the terminal's local stores, set up for power cuts.

WAL lets the admin screen and ``kiosk outbox status`` read while the worker writes;
``synchronous=FULL`` makes every commit reach the disk before it returns, so a row that was
committed survives the power being cut a millisecond later.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from kiosk.errors import KioskError


class StoreError(KioskError):
    """The local database cannot be opened or written (disk full, read-only, corrupt)."""

    message_zh = "终端存储故障，请联系工作人员"
    message_en = "The terminal's storage has failed, please ask staff for help"


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) a database with the durability settings every store uses."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # autocommit mode: transactions are explicit (BEGIN IMMEDIATE), never implicit
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10.0)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=10000")
    except (sqlite3.Error, OSError) as e:
        raise StoreError(f"cannot open {path}: {e}") from e
    return conn
