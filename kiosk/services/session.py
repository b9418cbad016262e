"""One resident's visit: who they are, what they chose, what came back — and the wipe.

A session holds every personal datum the terminal knows about the resident. ``wipe()``
drops all of it; the journey calls it when the item ends, the card is taken away, or time
runs out. Nothing personal lives anywhere else in the journey.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from kiosk.identity import Identity, SocialSecurityCard


def new_reference() -> str:
    """A short reference a resident can read out to staff (no personal data in it)."""
    return secrets.token_hex(3).upper()


@dataclass
class Session:
    locale: str = "zh_CN"
    elder_mode: bool = False
    category: str = ""  # the home screen's category the resident chose ("": the first)
    reference: str = field(default_factory=new_reference)
    started_at: float = field(default_factory=time.monotonic)
    item_id: str | None = None
    identity: Identity | None = None
    sscard: SocialSecurityCard | None = None
    identified_by: str = ""  # idcard | sscard | keyed
    #: what the item's flow fetched or produced (records, bills, orders); personal, wiped
    data: dict[str, Any] = field(default_factory=dict)
    transaction_no: str | None = None
    rated: bool = False

    @property
    def identified(self) -> bool:
        return self.identity is not None

    @property
    def matter_no(self) -> str:
        """What this visit's matter is known by, to staff, the journal and the backend: the
        transaction number once there is one, the session reference before."""
        return self.transaction_no or self.reference

    def wipe(self) -> None:
        """Drop every personal datum. The session object may be reused afterwards."""
        self.identity = None
        self.sscard = None
        self.identified_by = ""
        self.data.clear()
        self.item_id = None
        self.transaction_no = None
        self.rated = False

    @property
    def holds_personal_data(self) -> bool:
        return bool(self.identity or self.sscard or self.data)
