"""What came out of the printer: cut-delimited documents of printed lines and QR codes."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    text: str
    bold: bool = False
    width: int = 1  # character magnification from GS ! / ESC !
    height: int = 1


@dataclass(frozen=True)
class PrintedLine:
    spans: tuple[Span, ...]
    align: int = 0  # 0 left, 1 centre, 2 right

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.spans)


@dataclass(frozen=True)
class PrintedQr:
    payload: str
    module_size: int = 3
    ec: str = "L"
    align: int = 0


@dataclass
class Document:
    """One cut-delimited receipt as it came out of the printer."""

    items: list[PrintedLine | PrintedQr] = field(default_factory=list)
    raw: bytes = b""

    @property
    def lines(self) -> list[str]:
        return [i.text for i in self.items if isinstance(i, PrintedLine)]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def qr_payloads(self) -> list[str]:
        return [i.payload for i in self.items if isinstance(i, PrintedQr)]
