"""The device vocabulary shared by every driver, the hub and the UI.

Statuses follow the CEN/XFS vocabulary so that technicians see the same words on every device.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from kiosk.receipt import PrintJob


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
    SCAN = "scan"  # payload: ScannedCode (kiosk.hardware.scanner_frame), masked in its repr


@dataclass(frozen=True)
class DeviceEvent:
    device: str  # "idcard", "sscard", "printer", "ratingpad", "scanner"
    kind: EventKind
    payload: Any = None
    at: float = field(default_factory=time.time)


EventSink = Callable[[DeviceEvent], None]


# --- the ports every driver implements ------------------------------------------------------
# The hub and the journey only ever see these. A real driver and a simulated one (a real
# driver talking to an emulator over a real transport) both satisfy them.


class Device(Protocol):
    name: str  # "idcard", "sscard", "printer", "ratingpad"

    def start(self, sink: EventSink) -> None:
        """Open the device and start its background thread(s). Never raises for missing
        hardware: the status says so and the device keeps trying to reconnect."""

    def stop(self) -> None:
        """Stop threads and close the transport. Idempotent."""

    def status(self) -> DeviceStatus: ...

    def last_error(self) -> str:
        """The last error as technician text (no personal data), or ''."""

    def reconnect(self) -> None:
        """Close and reopen the transport now (technician action)."""


class CardReader(Device, Protocol):
    """ID-card and social-security-card readers. Events: CARD_PLACED (payload: the card's
    ``Identity`` or ``SocialSecurityCard``), CARD_REMOVED."""

    def current(self) -> Any | None:
        """The card on the reader now, if one has been read; None otherwise."""

    def card_present(self) -> bool:
        """A card is on or in the reader now, read or not."""


class ReceiptPrinter(Device, Protocol):
    #: jobs printed since the driver started (compared across a visit: paper to take)
    jobs_completed: int

    def paper(self) -> PaperStatus:
        """The last known paper state (from real-time status; UNKNOWN if the printer is silent)."""

    def refresh_status(self) -> tuple[DeviceStatus, PaperStatus]:
        """Ask the printer now (DLE EOT). Blocking: never call on the UI thread."""

    def print_job(self, job: PrintJob) -> None:
        """Print a job. Checks status first; raises PaperOutError / PrinterError. A job whose
        ``printed`` flag is set is not printed again. Blocking."""


class CodeScanner(Device, Protocol):
    """The QR / barcode scanner under the screen. Events: SCAN (payload: ``ScannedCode``) once
    per code read; the scanner keeps no state, so there is nothing to ask it between scans."""

    def read_once(self, timeout_s: float) -> Any:
        """Wait up to ``timeout_s`` for one code (technician command). Blocking."""


class RatingPad(Device, Protocol):
    """Events: RATING (payload: int 1..5), RATING_TIMEOUT."""

    def prompt(self, timeout_s: float) -> None:
        """Ask the resident to rate; the pad lights up until a key or the timeout."""

    def cancel(self) -> None:
        """The rating was given on screen: the pad goes dark and ignores keys."""
