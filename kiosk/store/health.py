"""Whether the terminal's store can take what must not be lost: room on the disk, a file that
writes, an outbox that is still the one it was.

``StoreState`` is what the outbox last found (``Outbox.check_health`` looks, on a worker or
the store-watch thread; ``Outbox.state`` only reads what was found, so the Kivy thread may ask
it). Items that write the journal or the outbox are unavailable while it is not ``usable``.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

MIB = 1024 * 1024


@dataclass(frozen=True)
class StoreState:
    path: str
    free_bytes: int | None  # None: the file system could not be asked
    total_bytes: int | None
    min_free_bytes: int
    writable: bool  # the last write (or trial write) went through
    lost: bool  # the store is damaged or its rows are gone: a technician must act
    problem: str  # technician text; '' when all is well
    checked_at: float

    @property
    def low_space(self) -> bool:
        return self.free_bytes is not None and self.free_bytes < self.min_free_bytes

    @property
    def usable(self) -> bool:
        return self.writable and not self.lost and not self.low_space

    def as_dict(self) -> dict[str, Any]:
        """For the admin screen, diagnostics and ``kiosk outbox status``."""
        return asdict(self) | {"low_space": self.low_space, "usable": self.usable}

    def summary(self) -> str:
        """One line for a technician."""
        free = "unknown" if self.free_bytes is None else f"{self.free_bytes / MIB:.1f} MiB"
        text = f"{Path(self.path).parent}: {free} free (minimum {self.min_free_bytes / MIB:.0f} MiB)"
        text += ", writable" if self.writable else ", NOT writable"
        return f"{text}; {self.problem}" if self.problem else text


def disk_space(folder: Path) -> tuple[int | None, int | None]:
    """(free, total) bytes of the file system holding ``folder`` for an unprivileged writer."""
    try:
        st = os.statvfs(folder)
    except OSError:
        return None, None
    return st.f_bavail * st.f_frsize, st.f_blocks * st.f_frsize
