"""Small counters that must survive a restart, such as how much of the paper roll is used.

They live in the outbox's database file (one file to back up, one set of durability settings).
A counter is a named JSON object; ``slot(name)`` gives the load/save pair a device driver
takes, so the driver keeps its count without knowing where it is kept.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from kiosk.store.outbox import Outbox

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at REAL NOT NULL
)
"""


class Counters:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        outbox.create_schema(SCHEMA)

    def load(self, name: str) -> dict[str, Any]:
        """The counter's last saved value; {} when never saved or unreadable."""
        with self.outbox.transaction(durable=False) as conn:
            row = conn.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        if row is None:
            return {}
        try:
            value = json.loads(row[0])
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def save(self, name: str, value: dict[str, Any]) -> None:
        with self.outbox.transaction() as conn:
            conn.execute(
                "INSERT INTO counters (name, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (name, json.dumps(value, sort_keys=True), time.time()),
            )

    def slot(self, name: str) -> CounterSlot:
        return CounterSlot(self, name)


@dataclass(frozen=True)
class CounterSlot:
    """One named counter, as a driver sees it: ``load()`` and ``save(value)``."""

    counters: Counters
    name: str

    def load(self) -> dict[str, Any]:
        return self.counters.load(self.name)

    def save(self, value: dict[str, Any]) -> None:
        self.counters.save(self.name, value)
