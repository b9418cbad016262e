"""A durable note beside a store's file: "this store has held rows, up to number N".

SQLite opens a missing or 0-byte file as a new, empty database, so a truncated, deleted or
replaced store looks exactly like a terminal's first day. The note (``<store>.mark``, a line
of JSON) is written when the store first holds something and whenever it is opened with more:
a store that is missing, empty or holds less than its note says is then an error to report,
never an empty store to carry on with. No note and no file is a brand-new terminal.

The note is replaced atomically (a temporary file, fsync, rename, fsync of the folder), so a
power cut leaves the old note or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from kiosk.store.db import store_error


class HighWater:
    """The high-water mark of one store, in a file beside it."""

    def __init__(self, store_path: Path) -> None:
        self.path = Path(f"{store_path}.mark")

    def read(self) -> int | None:
        """None: never written. Else the highest number the store is known to have held; a
        note that exists but cannot be read counts as 1 (the store had something)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError:
            return 1
        try:
            value = int(json.loads(text)["high_water"])
        except (ValueError, KeyError, TypeError):
            return 1
        return max(1, value)

    def write(self, value: int) -> None:
        """Record ``value`` durably; ``StoreError`` when the disk refuses."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        data = json.dumps({"high_water": int(value)}) + "\n"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, data.encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
            folder = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(folder)  # the rename itself must survive a power cut
            finally:
                os.close(folder)
        except OSError as e:
            raise store_error(e, f"cannot write {self.path}") from e
