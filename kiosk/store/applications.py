"""Applications waiting for the backend: sealed in the vault, queued in the outbox, settled once.

Submitting an application is three steps that each survive a power cut:

1. ``seal``: the form, each scanned page and the signature are encrypted into the vault
   (``kiosk.store.vault``) under the application's key;
2. ``queue``: one outbox row of kind ``application`` (what it holds: the item, masked name
   and ID number, and the manifest of sealed files with sizes and digests, never a personal
   value) and one row in the ``applications`` table here, in one SQLite transaction;
3. the delivery worker's sender (``kiosk.backend.uploads``) uploads the files in chunks and
   submits the application; ``accepted`` records the backend's answer (the 办件编号) and
   deletes the vault bundle. ``refused`` records why and deletes it too: personal data never
   outlives its use.

A bundle the vault holds with no queued row (a crash between 1 and 2) or with a settled row (a
crash between the answer and the deletion) is removed by ``sweep`` at start-up. The screen
waits for the answer with ``wait``; the worker wakes it from its own thread.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

from kiosk.store.outbox import Outbox
from kiosk.store.vault import Sealed, Vault

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS applications (
    key TEXT PRIMARY KEY,
    item_id TEXT NOT NULL,
    item_name TEXT NOT NULL,
    masked_name TEXT NOT NULL,
    masked_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'accepted', 'refused')),
    application_no TEXT NOT NULL DEFAULT '',
    answer TEXT NOT NULL DEFAULT '{}',
    reason TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
)
"""
COLUMNS = ("key", "item_id", "item_name", "masked_name", "masked_id", "status", "application_no",
           "answer", "reason", "created_at", "updated_at")


class Applications:
    """The vault of sealed files and the table of applications, in the outbox's database."""

    def __init__(self, outbox: Outbox, vault_dir: Path, secret: bytes) -> None:
        self.outbox = outbox
        self.vault = Vault(vault_dir, secret)
        outbox.create_schema(SCHEMA)
        self._settled = threading.Condition()

    # --- the terminal's side ---------------------------------------------------------------

    def seal(self, key: str, files: dict[str, bytes]) -> list[Sealed]:
        """Encrypt every file of an application into the vault; durable on return."""
        return [self.vault.seal(key, name, data) for name, data in files.items()]

    def queue(self, key: str, payload: dict[str, Any], *, item_id: str, item_name: str,
              masked_name: str, masked_id: str) -> None:
        """The outbox row and the application's row, in one transaction (durable on return)."""
        now = time.time()
        with self.outbox.transaction() as conn:
            Outbox.insert(conn, "application", payload, key)
            conn.execute(
                "INSERT OR IGNORE INTO applications (key, item_id, item_name, masked_name, masked_id, status,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'queued', ?, ?)",
                (key, item_id, item_name, masked_name, masked_id, now, now),
            )
        self.outbox.changed.set()

    def get(self, key: str) -> dict[str, Any] | None:
        rows = self.outbox.query(f"SELECT {', '.join(COLUMNS)} FROM applications WHERE key = ?", (key,))
        if not rows:
            return None
        row = dict(zip(COLUMNS, rows[0], strict=True))
        row["answer"] = json.loads(row["answer"])
        return row

    def wait(self, key: str, timeout_s: float) -> dict[str, Any] | None:
        """The application's row once it is settled (accepted or refused), or None after
        ``timeout_s`` (still queued: the network is slow or down)."""
        deadline = time.monotonic() + timeout_s
        with self._settled:
            while True:
                row = self.get(key)
                if row is not None and row["status"] != "queued":
                    return row
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._settled.wait(min(left, 0.5))

    # --- the sender's side -----------------------------------------------------------------

    def accepted(self, key: str, answer: dict[str, Any]) -> None:
        """The backend has the application: note its answer, then forget the personal files."""
        self._settle(key, "accepted", answer=answer)
        self.vault.delete(key)

    def refused(self, key: str, reason: str) -> None:
        """The backend will never take it: note why, and forget the personal files."""
        self._settle(key, "refused", reason=reason)
        self.vault.delete(key)

    def _settle(self, key: str, status: str, *, answer: dict[str, Any] | None = None, reason: str = "") -> None:
        with self.outbox.transaction() as conn:
            conn.execute(
                "UPDATE applications SET status=?, application_no=?, answer=?, reason=?, updated_at=? WHERE key=?",
                (status, str((answer or {}).get("application_no", "")), json.dumps(answer or {}, ensure_ascii=False),
                 reason[:500], time.time(), key),
            )
        with self._settled:
            self._settled.notify_all()

    def sweep(self) -> int:
        """Remove vault bundles nothing will send (see the module's docstring); how many."""
        removed = 0
        for bundle in self.vault.bundles():
            row = self.get(bundle)
            if row is None or row["status"] != "queued":
                self.vault.delete(bundle)
                removed += 1
        if removed:
            log.info("vault: %d bundle(s) no application waits for were removed", removed)
        return removed
