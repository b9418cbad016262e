"""The ESC/POS byte stream, parsed incrementally into documents as a printer would print them."""

from __future__ import annotations

from kiosk.sim.escpos.page import Page
from kiosk.sim.escpos.state import PrinterState

# total length of fixed-size commands, by their second byte
_ESC_LEN = {
    **dict.fromkeys(b"@2<ilmSL", 2),
    **dict.fromkeys(b"aEd!-3JMtRGV{ %U=?rTe", 3),
    **dict.fromkeys(b"$\\Bc", 4),
    ord("p"): 5,
    ord("W"): 10,
}
_GS_LEN = {
    **dict.fromkeys(b":c", 2),
    **dict.fromkeys(b"!BHhwfrIabTEj/V", 3),
    **dict.fromkeys(b"LWP\\$", 4),
    ord("^"): 5,
}
_FS_LEN = {
    **dict.fromkeys(b"&.", 2),
    **dict.fromkeys(b"!-WC", 3),
    **dict.fromkeys(b"Sp", 4),
    ord("2"): 76,
}
_QUERIES = (b"\x10\x04", b"\x10\x05", b"\x10\x14", b"\x1dr", b"\x1dI")


class EscposParser:
    """Incremental ESC/POS parser for one connection: ``feed(bytes) -> reply bytes``.

    A command split across TCP segments waits for the rest; unknown commands are skipped by
    their prefix, so random bytes can never wedge it. Image data is counted off, not kept.
    What is printed is laid out on a ``Page`` (``columns`` wide), which bounds what is kept.
    """

    def __init__(
        self, state: PrinterState, on_document, encoding: str = "gb18030", columns: int = 32
    ) -> None:
        self.state = state
        self.on_document = on_document
        self.encoding = encoding
        self.columns = columns
        self._buf = bytearray()
        self._skip = 0
        self._reset_modes()
        self.page = Page(columns)
        self._generation = state.generation

    def _reset_modes(self) -> None:
        self.chinese, self.bold, self.width, self.height, self.align = False, False, 1, 1, 0
        self.qr_model, self.qr_size, self.qr_ec, self.qr_data = 2, 3, "L", b""

    def feed(self, data: bytes) -> bytes:
        self._buf += data
        buf, pos, replies = self._buf, 0, bytearray()
        while pos < len(buf):
            if self._skip:
                n = min(self._skip, len(buf) - pos)
                self._skip -= n
                self.page.keep_raw(buf[pos : pos + n])
                pos += n
                continue
            n, skip = self._frame(buf, pos)
            if n == 0:
                break  # an incomplete command: wait for more bytes
            unit = bytes(buf[pos : pos + n])
            pos += n
            self._skip = skip
            if unit[:2] in _QUERIES:
                replies += self._answer(unit)
            else:
                self.page.keep_raw(unit)
                self._execute(unit, self.state.take(n + skip))
        del buf[:pos]
        return bytes(replies)

    # framing: (length of the next unit, data bytes after it to skip); (0, 0) = need more
    def _frame(self, b: bytearray, p: int) -> tuple[int, int]:
        avail = len(b) - p
        c = b[p]
        if c >= 0x20:
            return self._text_run(b, p), 0
        if c not in (0x10, 0x1B, 0x1C, 0x1D):
            return 1, 0
        if avail < 2:
            return 0, 0
        k = b[p + 1]
        if c == 0x10:
            if k in (0x04, 0x05):
                return (3, 0) if avail >= 3 else (0, 0)
            return ((5, 0) if avail >= 5 else (0, 0)) if k == 0x14 else (1, 0)
        table = {0x1B: _ESC_LEN, 0x1C: _FS_LEN, 0x1D: _GS_LEN}[c]
        if k in table:
            n = table[k]
            if c == 0x1D and k == ord("V") and avail >= 3 and b[p + 2] >= 65:
                n = 4  # GS V m n: feed n and cut
            return (n, 0) if avail >= n else (0, 0)
        if k == ord("(") and c in (0x1B, 0x1C, 0x1D):  # x ( fn pL pH data
            if avail < 5:
                return 0, 0
            n = 5 + b[p + 3] + (b[p + 4] << 8)
            return (n, 0) if avail >= n else (0, 0)
        if c == 0x1D and k == ord("v"):  # GS v 0 m xL xH yL yH raster
            return (
                (8, (b[p + 4] + (b[p + 5] << 8)) * (b[p + 6] + (b[p + 7] << 8)))
                if avail >= 8
                else (0, 0)
            )
        if c == 0x1D and k == ord("8"):  # GS 8 L p1..p4: 32-bit length graphics
            return (7, int.from_bytes(b[p + 3 : p + 7], "little")) if avail >= 7 else (0, 0)
        if c == 0x1D and k == ord("*"):  # GS * x y: downloaded bit image
            return (4, b[p + 2] * b[p + 3] * 8) if avail >= 4 else (0, 0)
        if c == 0x1B and k == ord("*"):  # ESC * m nL nH: bit image
            if avail < 5:
                return 0, 0
            return 5, (b[p + 3] + (b[p + 4] << 8)) * (1 if b[p + 2] in (0, 1) else 3)
        if c == 0x1D and k == ord("k"):  # barcode: NUL-terminated (m <= 6) or counted
            if avail < 3:
                return 0, 0
            if b[p + 2] >= 65:
                return (4, b[p + 3]) if avail >= 4 else (0, 0)
            end = b.find(0, p + 3, p + 3 + 256)
            if end >= 0:
                return end - p + 1, 0
            return (0, 0) if avail < 259 else (3, 0)
        if c == 0x1B and k == ord("D"):  # tab stops, NUL-terminated
            end = b.find(0, p + 2, p + 2 + 33)
            if end >= 0:
                return end - p + 1, 0
            return (0, 0) if avail < 35 else (2, 0)
        return 2, 0  # unknown: skip the prefix, its parameters will print as text

    def _text_run(self, b: bytearray, p: int) -> int:
        end, q = len(b), p
        while q < end and b[q] >= 0x20:
            if self.chinese and 0x81 <= b[q] <= 0xFE:
                if q + 1 >= end:
                    break  # the rest of this character is still on its way
                size = 4 if 0x30 <= b[q + 1] <= 0x39 else 2
                if any(x < 0x20 for x in b[q + 1 : q + size]):
                    size = 1  # broken by a control byte: the lead byte alone
                elif q + size > end:
                    break
                q += size
            else:
                q += 1
        return q - p

    def _answer(self, unit: bytes) -> bytes:
        if unit[:2] == b"\x10\x04":
            return self.state.realtime_status(unit[2])
        if unit[:2] == b"\x1dr" and unit[2] in (1, 49):
            return self.state.paper_sensor()
        return b""

    def _execute(self, unit: bytes, printing: bool) -> None:
        if self._generation != self.state.generation:
            self._tear_off()
        c = unit[0]
        if c >= 0x20:
            if printing:
                text = unit.decode(self.encoding if self.chinese else "cp437", errors="replace")
                self.page.text(text, self._style(), self.align)
        elif c == 0x0A:
            if printing:
                self.page.end_line(force=True, align=self.align)
        elif c == 0x09 and printing:
            self.page.tab(self._style(), self.align)
        elif c == 0x1B:
            self._esc(unit, printing)
        elif c == 0x1D:
            self._gs(unit, printing)
        elif c == 0x1C:
            k = unit[1]
            if k == ord("&"):
                self.chinese = True
            elif k == ord("."):
                self.chinese = False

    def _esc(self, unit: bytes, printing: bool) -> None:
        k, arg = unit[1], unit[2] if len(unit) > 2 else 0
        if k == ord("@"):
            self.page.clear_line()
            self._reset_modes()
        elif k == ord("a"):
            self.align = {0: 0, 48: 0, 1: 1, 49: 1, 2: 2, 50: 2}.get(arg, self.align)
        elif k == ord("E"):
            self.bold = bool(arg & 1)
        elif k == ord("!"):
            self.bold, self.height, self.width = (
                bool(arg & 8),
                2 if arg & 16 else 1,
                2 if arg & 32 else 1,
            )
        elif k == ord("d") and printing:
            # at most 255 lines (956 mm): blank lines cost one shared object, past the limit a count
            printed = not self.page.line_empty
            self.page.end_line(force=printed, align=self.align)
            self.page.feed(arg - 1 if printed else arg)
        elif k == ord("J") and printing:
            self.page.end_line(force=False, align=self.align)

    def _gs(self, unit: bytes, printing: bool) -> None:
        k = unit[1]
        if k == ord("!"):
            self.width, self.height = ((unit[2] >> 4) & 7) + 1, (unit[2] & 7) + 1
        elif k == ord("V") and printing:
            self.on_document(self.page.cut(self.align))
        elif k == ord("v") and printing and len(unit) >= 8:  # the bits follow in the raw bytes
            self.page.end_line(force=False, align=self.align)
            self.page.image(unit[4] + (unit[5] << 8), unit[6] + (unit[7] << 8), self.align)
        elif k == ord("(") and unit[2] == ord("k") and len(unit) >= 8 and unit[5] == 49:
            fn, data = unit[6], unit[7:]
            if fn == 65:
                self.qr_model = data[0] - 48
            elif fn == 67:
                self.qr_size = data[0]
            elif fn == 69:
                self.qr_ec = {48: "L", 49: "M", 50: "Q", 51: "H"}.get(data[0], "L")
            elif fn == 80:
                self.qr_data = bytes(data[1:])
            elif fn == 81 and printing and self.qr_data:
                self.page.end_line(force=False, align=self.align)
                self.page.qr(self.qr_data, self.qr_size, self.qr_ec, self.align)

    def _style(self) -> tuple[bool, int, int]:
        return self.bold, self.width, self.height

    def _tear_off(self) -> None:
        """The paper ran out: what was printed of this receipt is lost with the old roll."""
        self._generation = self.state.generation
        self.page.tear_off()
