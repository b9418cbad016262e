"""What came out of the printer: cut-delimited documents of printed lines, QR codes and raster
images (a certificate's seal)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Span:
    text: str
    bold: bool = False
    width: int = 1  # character magnification from GS ! / ESC !
    height: int = 1


@dataclass(frozen=True, slots=True)
class PrintedLine:
    spans: tuple[Span, ...]
    align: int = 0  # 0 left, 1 centre, 2 right

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.spans)


@dataclass(frozen=True, slots=True)
class PrintedQr:
    payload: str
    module_size: int = 3
    ec: str = "L"
    align: int = 0


@dataclass(frozen=True, slots=True)
class PrintedImage:
    """A ``GS v 0`` raster: its bits are in the document's raw bytes from ``offset`` on."""

    width_bytes: int
    height: int
    offset: int
    align: int = 0

    def image(self, raw: bytes):
        from PIL import Image

        size = self.width_bytes * self.height
        bits = raw[self.offset : self.offset + size].ljust(size, b"\x00")  # cut short: blank
        return Image.frombytes("1", (self.width_bytes * 8, self.height), bytes(b ^ 0xFF for b in bits))


@dataclass
class Document:
    """One cut-delimited receipt as it came out of the printer."""

    items: list[PrintedLine | PrintedQr | PrintedImage] = field(default_factory=list)
    raw: bytes = b""
    #: lines (and codes) printed after the document reached its length limit, not kept
    lines_dropped: int = 0

    @property
    def lines(self) -> list[str]:
        return [i.text for i in self.items if isinstance(i, PrintedLine)]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def qr_payloads(self) -> list[str]:
        return [i.payload for i in self.items if isinstance(i, PrintedQr)]

    @property
    def images(self) -> list[PrintedImage]:
        return [i for i in self.items if isinstance(i, PrintedImage)]

    def memory(self) -> int:
        """Bytes the document holds: its objects and their text (a shared blank line counted
        each time it appears, so this is an upper bound)."""
        size = sys.getsizeof(self.items) + sys.getsizeof(self.raw)
        for item in self.items:
            size += sys.getsizeof(item)
            if isinstance(item, PrintedQr):
                size += sys.getsizeof(item.payload)
            elif isinstance(item, PrintedImage):
                pass  # its bits are counted in raw
            else:
                size += sys.getsizeof(item.spans)
                size += sum(sys.getsizeof(s) + sys.getsizeof(s.text) for s in item.spans)
        return size


#: a line with nothing on it; frozen, so every blank line of every document can be this one
BLANK = PrintedLine(())
