"""The audit trail: every technician action, on the terminal and at the backend.

Each action is written to the ``audit`` table in the outbox's database and queued in the
outbox as kind "audit" in the same SQLite transaction, the way the journal does it: the
local trail and what the backend eventually receives never disagree, even after a power cut.
Details are technician text; ID-number-, phone- and card-number-like runs are masked here as
a last line of defence, because an audit row is kept for years.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from kiosk.identity import mask_number
from kiosk.store.db import StoreError
from kiosk.store.outbox import Outbox

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    terminal_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL,
    result TEXT NOT NULL,
    at REAL NOT NULL,
    outbox_key TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
"""
COLUMNS = ("seq", "terminal_id", "actor", "action", "detail", "result", "at", "outbox_key")
RESULTS = ("ok", "failed", "refused")

#: the backend's AuditIn limits (kiosk.backend.models)
_ACTION_MAX = 64
_DETAIL_MAX = 500

# 15/18-digit ID numbers, 11-digit mobile numbers, 9-character social-security card numbers
_PERSONAL = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15}|1\d{10}|[A-Z]\d{8})(?![0-9A-Za-z])")


def scrub(text: str) -> str:
    """Mask anything that looks like an ID, phone or card number in technician text."""
    return _PERSONAL.sub(lambda m: mask_number(m.group(0), 4), text or "")


class Audit:
    """Writes audit rows; ``recent`` reads them back, newest first."""

    def __init__(
        self,
        outbox: Outbox,
        terminal_id: str,
        *,
        actor: str = "technician",
        now: Callable[[], float] = time.time,
    ) -> None:
        self.outbox = outbox
        self.terminal_id = terminal_id
        self.actor = actor
        self.now = now
        outbox.create_schema(SCHEMA)

    def record(self, action: str, detail: str = "", result: str = "ok") -> str:
        """Record one action; returns the outbox key. ``result`` is ok / failed / refused.

        A store that refuses the row (full disk, lost outbox) does not stop the technician who
        came to fix it: the action goes to the log at ERROR instead, and '' is returned."""
        if result not in RESULTS:
            raise ValueError(f"result {result!r} is not one of {', '.join(RESULTS)}")
        action = action[:_ACTION_MAX] or "unknown"
        detail = scrub(detail)
        at = self.now()
        key = f"audit-{uuid.uuid4().hex}"
        # the backend's contract has no result field: it travels at the head of the detail
        sent_detail = f"[{result}] {detail}".strip()[:_DETAIL_MAX]
        payload = {
            "actor": self.actor,
            "action": action,
            "detail": sent_detail,
            "at": dt.datetime.fromtimestamp(at).astimezone().isoformat(timespec="seconds"),
        }
        try:
            with self.outbox.transaction() as conn:
                conn.execute(
                    "INSERT INTO audit (terminal_id, actor, action, detail, result, at, outbox_key)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (self.terminal_id, self.actor, action, detail[:_DETAIL_MAX], result, at, key),
                )
                Outbox.insert(conn, "audit", payload, key)
        except StoreError as e:
            log.error("admin %s [%s] %s (audit NOT stored: %s)", action, result, detail, e)
            return ""
        self.outbox.changed.set()
        log.info("admin %s [%s] %s", action, result, detail)
        return key

    def recent(self, n: int = 50) -> list[dict[str, Any]]:
        rows = self.outbox.query(f"SELECT {', '.join(COLUMNS)} FROM audit ORDER BY seq DESC LIMIT ?", (n,))
        return [dict(zip(COLUMNS, row, strict=True)) for row in rows]
