"""Turn a ``Receipt`` into the exact ESC/POS bytes a receipt printer is sent.

Pure and deterministic: the same receipt always gives the same bytes, which is what the
golden-byte tests rely on. Chinese text is encoded here (GB18030 by default, GBK for older
printers) and every line that holds a non-ASCII character is wrapped in ``FS &`` ... ``FS .``
itself, so it never depends on the printer already being in Chinese mode. python-escpos's
``text()`` is not used for that reason: it turns punctuation-only strings such as ``，：￥``
into ``?`` and never sends ``FS &``.

Widths are counted in display columns (a CJK character is two). 58 mm paper holds 32
half-width columns, 80 mm paper 48. A value that does not fit beside its label goes on lines
of its own, broken only where ``kiosk.linebreak`` allows: a transaction number or an address
never loses a digit to the next line. A certificate's seal is sent as a 1-bit raster
(``GS v 0``), the only image on the paper besides the native QR code.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from kiosk import linebreak
from kiosk import seal as seals
from kiosk.receipt import Receipt

ESC, GS, FS, LF = b"\x1b", b"\x1d", b"\x1c", b"\n"
INIT = ESC + b"@"
CHINESE_ON = FS + b"&"
CHINESE_OFF = FS + b"."
ALIGN_LEFT, ALIGN_CENTER, ALIGN_RIGHT = ESC + b"a\x00", ESC + b"a\x01", ESC + b"a\x02"
BOLD_ON, BOLD_OFF = ESC + b"E\x01", ESC + b"E\x00"
SIZE_NORMAL = GS + b"!\x00"
SIZE_DOUBLE = GS + b"!\x11"  # double width and height
SIZE_TALL = GS + b"!\x01"  # double height only: keeps the column count
FULL_CUT = GS + b"V\x00"

#: printers feed this many dots per text line by default (1/8 mm per dot at 203 dpi)
LINE_DOTS = 30
DOTS_PER_MM = 8
COPY_MARK = "** 补打 COPY **"
QR_EC_LEVELS = {"L": 48, "M": 49, "Q": 50, "H": 51}
SEAL_DOTS = 208  # 26 mm across at 203 dpi: legible, and narrower than 58 mm paper


def char_width(ch: str) -> int:
    """Columns a character takes on the printer: wide and full-width forms take two."""
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(text: str) -> int:
    return sum(char_width(ch) for ch in text)


def wrap_columns(text: str, width: int) -> list[str]:
    """Break text into lines of at most ``width`` columns (Chinese anywhere, numbers whole)."""
    if width < 2:
        raise ValueError("width must be at least 2 columns")
    return linebreak.wrap(text, lambda line: display_width(line) <= width)


def pad_to(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def encode_line(text: str, encoding: str = "gb18030") -> bytes:
    """One printed line: ASCII as is, anything else in Chinese mode, then LF."""
    if text.isascii():
        return text.encode("ascii") + LF
    # GB18030 covers all of Unicode; a narrower encoding (GBK) prints '?' for what it lacks
    return CHINESE_ON + text.encode(encoding, errors="replace") + CHINESE_OFF + LF


def qr_command(payload: str, *, module_size: int = 6, ec: str = "M") -> bytes:
    """Native QR (``GS ( k``, model 2): select model, module size, error level, store, print."""
    if not 1 <= module_size <= 16:
        raise ValueError("QR module size must be 1..16")
    data = payload.encode("utf-8")
    if len(data) > 7089:
        raise ValueError("QR payload too long")

    def fn(code: int, params: bytes) -> bytes:
        size = len(params) + 2
        return GS + b"(k" + bytes((size & 0xFF, size >> 8, 49, code)) + params

    return (
        fn(65, b"\x32\x00")  # model 2
        + fn(67, bytes((module_size,)))
        + fn(69, bytes((QR_EC_LEVELS[ec],)))
        + fn(80, b"\x30" + data)  # store
        + fn(81, b"\x30")  # print
    )


def _raster(image) -> bytes:
    """``GS v 0``: a 1-bit image, 8 dots a byte, most significant bit leftmost, 1 = ink."""
    width_bytes = (image.width + 7) // 8
    padded = image.crop((0, 0, width_bytes * 8, image.height))  # white beyond the edge
    ink = bytes(b ^ 0xFF for b in padded.convert("1").tobytes())  # Pillow's 1 is white
    head = GS + b"v0\x00" + bytes((width_bytes & 0xFF, width_bytes >> 8, image.height & 0xFF, image.height >> 8))
    return head + ink


@lru_cache(maxsize=64)
def _qr_modules(payload: str, ec: str) -> int:
    import qrcode  # only needed to estimate paper length

    levels = {
        "L": qrcode.constants.ERROR_CORRECT_L,
        "M": qrcode.constants.ERROR_CORRECT_M,
        "Q": qrcode.constants.ERROR_CORRECT_Q,
        "H": qrcode.constants.ERROR_CORRECT_H,
    }
    code = qrcode.QRCode(error_correction=levels[ec], border=0)
    code.add_data(payload)
    code.make(fit=True)
    return code.modules_count


class _Layout:
    """Collects bytes and the paper height (in dots) they will use."""

    def __init__(self, encoding: str, width: int) -> None:
        self.encoding = encoding
        self.width = width
        self.out = bytearray()
        self.dots = 0

    def raw(self, data: bytes) -> None:
        self.out += data

    def line(self, text: str, height: int = 1) -> None:
        self.out += encode_line(text, self.encoding)
        self.dots += LINE_DOTS * height

    def feed(self, n: int) -> None:
        self.out += ESC + b"d" + bytes((n,))
        self.dots += LINE_DOTS * n

    def separator(self) -> None:
        self.line("-" * self.width)

    def row(self, label: str, value: str) -> None:
        head = f"{label}："
        gap = self.width - display_width(head) - display_width(value)
        if gap >= 1:
            self.line(head + " " * gap + value)
            return
        for part in wrap_columns(head, self.width):
            self.line(part)
        for part in wrap_columns(value, self.width - 2):
            self.line("  " + part)

    def table(self, header: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> None:
        ncols = max([len(header)] + [len(r) for r in rows])
        if ncols == 0:
            return
        cells = [list(header) + [""] * (ncols - len(header))] if header else []
        cells += [list(r) + [""] * (ncols - len(r)) for r in rows]
        widths = [max(2, *(display_width(r[i]) for r in cells)) for i in range(ncols)]
        available = self.width - (ncols - 1)
        while sum(widths) > available and max(widths) > 2:
            widths[widths.index(max(widths))] -= 1  # shrink the widest column first
        for index, row in enumerate(cells):
            wrapped = [wrap_columns(cell, w) for cell, w in zip(row, widths, strict=True)]
            for k in range(max(len(c) for c in wrapped)):
                parts = [
                    pad_to(c[k] if k < len(c) else "", w)
                    for c, w in zip(wrapped, widths, strict=True)
                ]
                self.line(" ".join(parts).rstrip())
            if index == 0 and header:
                self.separator()


def _layout(receipt: Receipt, encoding: str, width_chars: int, qr_size: int, qr_ec: str) -> _Layout:
    if width_chars < 16:
        raise ValueError("a receipt needs at least 16 columns")
    out = _Layout(encoding, width_chars)
    out.raw(INIT + ALIGN_CENTER + BOLD_ON + SIZE_DOUBLE)
    for part in wrap_columns(receipt.title, width_chars // 2):
        out.line(part, height=2)
    out.raw(SIZE_NORMAL)
    if receipt.is_copy:
        out.line(COPY_MARK)
    out.raw(BOLD_OFF + ALIGN_LEFT)
    out.separator()
    out.row("流水号", receipt.transaction_no)
    out.row("时间", receipt.issued_at)
    out.row("终端", receipt.terminal_id)
    for label, value in receipt.lines:
        out.row(label, value)
    if receipt.table_header or receipt.table_rows:
        out.separator()
        out.table(receipt.table_header, receipt.table_rows)
    if receipt.amount_fen is not None:
        out.separator()
        out.raw(BOLD_ON + SIZE_TALL)
        out.row("合计金额", receipt.amount_text)
        out.dots += LINE_DOTS  # the tall line uses two line heights
        out.raw(SIZE_NORMAL + BOLD_OFF)
    if receipt.closing:
        out.separator()
        for label, value in receipt.closing:
            out.row(label, value)
    out.separator()
    if receipt.qr_payload or receipt.footer or receipt.is_copy or receipt.seal:
        out.raw(ALIGN_CENTER)
    if receipt.seal is not None:
        out.raw(_raster(seals.raster(receipt.seal, SEAL_DOTS)))
        out.dots += SEAL_DOTS
    if receipt.qr_payload:
        out.raw(qr_command(receipt.qr_payload, module_size=qr_size, ec=qr_ec))
        out.dots += _qr_modules(receipt.qr_payload, qr_ec) * qr_size
        out.line("")
    for text in receipt.footer:
        for part in wrap_columns(text, width_chars):
            out.line(part)
    if receipt.is_copy:
        out.raw(BOLD_ON)
        out.line(COPY_MARK)
        out.raw(BOLD_OFF)
    out.raw(ALIGN_LEFT)
    out.feed(4)  # move the last line past the cutter
    out.raw(FULL_CUT)
    return out


def render_receipt(
    receipt: Receipt,
    *,
    encoding: str = "gb18030",
    width_chars: int = 32,
    qr_size: int = 6,
    qr_ec: str = "M",
) -> bytes:
    """The ESC/POS bytes for one receipt, from ``ESC @`` to the cut."""
    return bytes(_layout(receipt, encoding, width_chars, qr_size, qr_ec).out)


def receipt_length_mm(
    receipt: Receipt, *, width_chars: int = 32, qr_size: int = 6, qr_ec: str = "M"
) -> float:
    """About how much paper the receipt uses, for the roll counter."""
    return _layout(receipt, "gb18030", width_chars, qr_size, qr_ec).dots / DOTS_PER_MM
