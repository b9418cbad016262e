"""What a receipt says, independent of how a printer is told to print it.

The journey builds a ``Receipt``; ``kiosk.hardware.receipt_escpos`` turns it into ESC/POS bytes
and the emulator renders those bytes back into an image. Receipts carry masked names and ID
numbers; the one exception is a certificate in receipt form, whose holder lines carry the full
name and ID number an office needs (unless the county masks them). ``lines`` therefore stay
out of the ``repr``, so no log line or traceback can show them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.money import yuan
from kiosk.seal import Seal


@dataclass(frozen=True)
class Receipt:
    title: str  # e.g. 个人参保缴费证明
    transaction_no: str
    issued_at: str  # "2026-11-23 17:45:02", terminal local time
    terminal_id: str
    lines: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # (label, value) rows
    table_header: tuple[str, ...] = ()  # optional small table
    table_rows: tuple[tuple[str, ...], ...] = field(default=(), repr=False)
    amount_fen: int | None = None  # amounts in fen; printed as ￥1,234.56
    #: rows after the table: a certificate's number, verification code and address, issuer
    closing: tuple[tuple[str, str], ...] = ()
    seal: Seal | None = None  # a certificate's seal, printed as a raster above the QR code
    qr_payload: str = ""  # verification URL or code; printed as native QR
    footer: tuple[str, ...] = ()
    is_copy: bool = False  # reprints say 补打/COPY

    @property
    def amount_text(self) -> str:
        return "" if self.amount_fen is None else yuan(self.amount_fen)


@dataclass
class PrintJob:
    """A receipt bound to a job id; the id is what makes a retry safe (never printed twice)."""

    job_id: str
    receipt: Receipt
    attempts: int = 0
    printed: bool = False
    last_error: str = field(default="")
