"""What a receipt says, independent of how a printer is told to print it.

The journey builds a ``Receipt``; ``kiosk.hardware.receipt_escpos`` turns it into ESC/POS bytes
and the emulator renders those bytes back into an image. Nothing personal is put here
unmasked: callers pass masked names and ID numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Receipt:
    title: str  # e.g. 个人参保缴费证明
    transaction_no: str
    issued_at: str  # "2026-11-23 17:45:02", terminal local time
    terminal_id: str
    lines: tuple[tuple[str, str], ...] = ()  # (label, value) rows, values already masked
    table_header: tuple[str, ...] = ()  # optional small table
    table_rows: tuple[tuple[str, ...], ...] = ()
    amount_fen: int | None = None  # amounts in fen; printed as ￥12.34
    qr_payload: str = ""  # verification URL or code; printed as native QR
    footer: tuple[str, ...] = ()
    is_copy: bool = False  # reprints say 补打/COPY

    @property
    def amount_text(self) -> str:
        if self.amount_fen is None:
            return ""
        return f"￥{self.amount_fen // 100}.{self.amount_fen % 100:02d}"


@dataclass
class PrintJob:
    """A receipt bound to a job id; the id is what makes a retry safe (never printed twice)."""

    job_id: str
    receipt: Receipt
    attempts: int = 0
    printed: bool = False
    last_error: str = field(default="")
