"""The device vocabulary shared by every driver, the hub and the UI.

Statuses follow the CEN/XFS vocabulary so that technicians see the same words on every device.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class DeviceStatus(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    NO_DEVICE = "no_device"
    HARDWARE_ERROR = "hardware_error"
    USER_ERROR = "user_error"
    BUSY = "busy"

    @property
    def usable(self) -> bool:
        return self in (DeviceStatus.ONLINE, DeviceStatus.BUSY)


class PaperStatus(StrEnum):
    FULL = "full"
    LOW = "low"
    OUT = "out"
    UNKNOWN = "unknown"


class EventKind(StrEnum):
    CARD_PLACED = "card_placed"  # payload: Identity (ID card) or SocialSecurityCard
    CARD_REMOVED = "card_removed"
    RATING = "rating"  # payload: int 1..5
    RATING_TIMEOUT = "rating_timeout"
    STATUS = "status"  # payload: DeviceStatus
    PAPER = "paper"  # payload: PaperStatus
    ERROR = "error"  # payload: str, technician text without personal data


@dataclass(frozen=True)
class DeviceEvent:
    device: str  # "idcard", "sscard", "printer", "ratingpad"
    kind: EventKind
    payload: Any = None
    at: float = field(default_factory=time.time)


EventSink = Callable[[DeviceEvent], None]
