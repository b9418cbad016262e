"""The printer's condition shared by every connection: paper, cover, voice, and the status
bytes it answers with."""

from __future__ import annotations

import threading

from kiosk.hardware.base import PaperStatus


class PrinterState:
    """Paper, online and voice of the printer; shared by every connection, thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.paper = PaperStatus.FULL
        self.offline = False  # cover open
        self.silent = False
        self.generation = (
            0  # bumped whenever the paper runs out: a half-printed receipt is torn off
        )
        self.run_out_budget: int | None = None

    def set_paper(self, paper: PaperStatus) -> None:
        with self.lock:
            if paper is PaperStatus.OUT and self.paper is not PaperStatus.OUT:
                self.generation += 1
            self.paper = paper
            self.run_out_budget = None

    def take(self, n: int) -> bool:
        """Account for ``n`` bytes of print data; False if they cannot be printed."""
        with self.lock:
            if self.paper is PaperStatus.OUT or self.offline:
                return False
            if self.run_out_budget is not None:
                if n > self.run_out_budget:
                    self.paper, self.run_out_budget = PaperStatus.OUT, None
                    self.generation += 1
                    return False
                self.run_out_budget -= n
            return True

    def realtime_status(self, n: int) -> bytes:
        """The answer to ``DLE EOT n`` (bits 1 and 4 are always set)."""
        with self.lock:
            out, low = self.paper is PaperStatus.OUT, self.paper is PaperStatus.LOW
            if n == 1:  # printer: bit 3 offline
                return bytes((0x12 | (0x08 if out or self.offline else 0),))
            if n == 2:  # offline cause: bit 2 cover open, bit 5 paper end
                return bytes((0x12 | (0x04 if self.offline else 0) | (0x20 if out else 0),))
            if n == 3:  # error cause: none of ours
                return b"\x12"
            if n == 4:  # roll sensor: bits 2-3 near end, bits 5-6 paper out
                return bytes((0x12 | (0x0C if out or low else 0) | (0x60 if out else 0),))
        return b""

    def paper_sensor(self) -> bytes:
        """The answer to ``GS r 1`` in the style of common Chinese printers."""
        with self.lock:
            return {PaperStatus.OUT: b"\x0f", PaperStatus.LOW: b"\x03"}.get(self.paper, b"\x00")
