"""The ESC/POS byte stream, parsed incrementally into documents as a printer would print them."""

from __future__ import annotations

import itertools
import logging

from kiosk.hardware.receipt_escpos import DOTS_PER_MM, LINE_DOTS, char_width
from kiosk.sim.escpos.document import BLANK, Document, PrintedLine, PrintedQr, Span
from kiosk.sim.escpos.state import PrinterState

log = logging.getLogger(__name__)

# What a broken or hostile stream can make the emulator hold is bounded, with a printer's
# numbers: a text line is 30 dots = 3.75 mm of paper; a 58 mm roll of 50 mm diameter holds
# some 30 m (pi * (50^2 - 12^2) / 4 / 0.06 mm paper), one of 80 mm diameter some 80 m.
#: lines (and QR codes) kept per document: 1,000 lines are 3.75 m of paper, some 25 certificates
#: (145 mm each) or an eighth of a small roll; what follows up to the cut is counted, not kept
MAX_DOCUMENT_LINES = 1_000
#: print data kept per document as ``Document.raw``: 256 KiB would be a full-width raster image
#: 68 cm long on 58 mm paper (48 bytes a dot row); what comes after is printed, not kept
MAX_DOCUMENT_BYTES = 256 << 10
#: the most a QR code holds (version 40, level L, byte mode); a printer prints nothing for more
MAX_QR_BYTES = 2_953
#: a tab moves to the next multiple of this many columns (the printers' default tab stops)
TAB_COLUMNS = 8


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
    Text that does not fit the line carries on below, as a printer prints a full line buffer;
    so every line is at most ``columns`` wide and the work per byte is bounded.
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
        self._doc = Document()
        self._doc_raw = bytearray()
        self._raw_full = False  # this document's raw bytes reached MAX_DOCUMENT_BYTES
        self._line: list[Span] = []
        self._line_align = 0
        self._col = 0  # columns taken on the current line
        self._chars = 0  # characters on it (a combining mark takes no column)
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
                self._keep_raw(buf[pos : pos + n])
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
                self._keep_raw(unit)
                self._execute(unit, self.state.take(n + skip))
        del buf[:pos]
        return bytes(replies)

    def _keep_raw(self, data: bytes | bytearray) -> None:
        room = MAX_DOCUMENT_BYTES - len(self._doc_raw)
        if len(data) > room and not self._raw_full:
            self._raw_full = True
            log.warning(
                "a document passed %d KiB of print data: it prints on, the rest of its bytes "
                "is not kept",
                MAX_DOCUMENT_BYTES >> 10,
            )
        if room > 0:
            self._doc_raw += data[:room]

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
                self._add_text(text)
        elif c == 0x0A:
            if printing:
                self._end_line(force=True)
        elif c == 0x09 and printing:
            self._tab()
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
            self._clear_line()
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
            # at most 255 lines (956 mm, within the 1,016 mm a printer feeds at once); each is
            # the one shared BLANK, and past the document's limit only a count
            blank = arg - 1 if self._chars else arg
            self._end_line(force=bool(self._chars))
            self._add_items(itertools.repeat(BLANK, max(0, blank)), max(0, blank))
        elif k == ord("J") and printing:
            self._end_line(force=False)

    def _gs(self, unit: bytes, printing: bool) -> None:
        k = unit[1]
        if k == ord("!"):
            self.width, self.height = ((unit[2] >> 4) & 7) + 1, (unit[2] & 7) + 1
        elif k == ord("V") and printing:
            self._end_line(force=False)
            self._doc.raw = bytes(self._doc_raw)
            self.on_document(self._doc)
            self._doc, self._doc_raw, self._raw_full = Document(), bytearray(), False
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
                self._end_line(force=False)
                if len(self.qr_data) > MAX_QR_BYTES:
                    log.warning(
                        "a QR code of %d bytes (at most %d fit): not printed",
                        len(self.qr_data),
                        MAX_QR_BYTES,
                    )
                    return
                payload = self.qr_data.decode("utf-8", errors="replace")
                qr = PrintedQr(payload, self.qr_size, self.qr_ec, self.align)
                self._add_items((qr,), 1)

    # --- laying out the line ----------------------------------------------------------------

    def _add_text(self, text: str) -> None:
        """Put text on the line; a character that does not fit starts the next line."""
        mag, start, used = self.width, 0, 0
        if text.isascii():  # one column a character: cut it into pieces that fit
            while start < len(text):
                fit = (self.columns - self._col) // mag
                if fit <= 0 and self._chars:
                    self._wrap()
                    continue
                piece = text[start : start + max(fit, 1)]
                self._put(piece, len(piece) * mag, mag)
                start += len(piece)
            return
        limit = 2 * self.columns  # characters a line holds, combining marks included
        for i, ch in enumerate(text):
            w = char_width(ch) * mag
            pending = i - start
            if (self._col + used + w > self.columns or self._chars + pending >= limit) and (
                self._chars or pending
            ):
                if pending:
                    self._put(text[start:i], used, mag)
                self._wrap()
                start, used = i, 0
            used += w
        if start < len(text):
            self._put(text[start:], used, mag)

    def _tab(self) -> None:
        """HT: to the next tab stop; at the end of the line, to the first stop of the next."""
        if self._col >= self.columns:
            self._wrap()
        stop = min((self._col // TAB_COLUMNS + 1) * TAB_COLUMNS, self.columns)
        if stop > self._col:
            self._put(" " * (stop - self._col), stop - self._col, 1)

    def _put(self, text: str, cols: int, mag: int) -> None:
        """Append text of ``cols`` columns at magnification ``mag``; it fits the line."""
        if not self._chars:
            self._line_align = self.align
        self._col += cols
        self._chars += len(text)
        if self._doc.lines_dropped:
            return  # past the document's length limit: laid out and counted, not kept
        last = self._line[-1] if self._line else None
        if last and (last.bold, last.width, last.height) == (self.bold, mag, self.height):
            self._line[-1] = Span(last.text + text, self.bold, mag, self.height)  # <= a line long
        else:
            self._line.append(Span(text, self.bold, mag, self.height))

    def _wrap(self) -> None:
        """The line buffer is full: it is printed and the text carries on below."""
        self._end_line(force=True)

    def _end_line(self, *, force: bool) -> None:
        if self._chars or force:
            align = self._line_align if self._chars else self.align
            self._add_items((PrintedLine(tuple(self._line), align),), 1)
        self._clear_line()

    def _clear_line(self) -> None:
        self._line, self._col, self._chars = [], 0, 0

    def _add_items(self, items, n: int) -> None:
        """Add ``n`` printed lines or codes, up to the document's length limit."""
        doc = self._doc
        room = MAX_DOCUMENT_LINES - len(doc.items)
        if n > room and not doc.lines_dropped:
            log.warning(
                "a document reached %d lines (%.2f m of paper); what follows up to "
                "the cut is dropped",
                MAX_DOCUMENT_LINES,
                MAX_DOCUMENT_LINES * LINE_DOTS / DOTS_PER_MM / 1000,
            )
        doc.items.extend(itertools.islice(items, max(0, min(n, room))))
        doc.lines_dropped += max(0, n - room)

    def _tear_off(self) -> None:
        """The paper ran out: what was printed of this receipt is lost with the old roll."""
        self._generation = self.state.generation
        self._doc, self._doc_raw, self._raw_full = Document(), bytearray(), False
        self._clear_line()
