"""The paper coming out of the printer: the line being laid out, the document printed since
the last cut, and the limits on what is kept of it.

Text that does not fit the line carries on below, as a printer prints a full line buffer, so
a line is at most ``columns`` wide and laying out costs the same for every byte. What a
broken or hostile stream can make a document hold is bounded, with a printer's numbers: a
text line is 30 dots = 3.75 mm of paper; a 58 mm roll of 50 mm diameter holds some 30 m
(pi * (50^2 - 12^2) / 4 / 0.06 mm paper), one of 80 mm diameter some 80 m.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable

from kiosk.hardware.receipt_escpos import DOTS_PER_MM, LINE_DOTS, char_width
from kiosk.sim.escpos.document import BLANK, Document, PrintedImage, PrintedLine, PrintedQr, Span

log = logging.getLogger(__name__)

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

#: bold, character width and height magnification, as ESC E / ESC ! / GS ! set them
Style = tuple[bool, int, int]


class Page:
    """One connection's paper: ``text``/``tab``/``end_line``/``feed``/``qr`` lay it out,
    ``cut`` hands over the finished document."""

    def __init__(self, columns: int = 32) -> None:
        self.columns = columns
        self.doc = Document()
        self._raw = bytearray()
        self._raw_full = False  # this document's raw bytes reached MAX_DOCUMENT_BYTES
        self._line: list[Span] = []
        self._line_align = 0
        self._col = 0  # columns taken on the current line
        self._chars = 0  # characters on it (a combining mark takes no column)

    @property
    def line_empty(self) -> bool:
        return not self._chars

    def keep_raw(self, data: bytes | bytearray) -> None:
        room = MAX_DOCUMENT_BYTES - len(self._raw)
        if len(data) > room and not self._raw_full:
            self._raw_full = True
            log.warning(
                "a document passed %d KiB of print data: it prints on, the rest of its bytes "
                "is not kept",
                MAX_DOCUMENT_BYTES >> 10,
            )
        if room > 0:
            self._raw += data[:room]

    def text(self, text: str, style: Style, align: int) -> None:
        """Put text on the line; a character that does not fit starts the next line."""
        mag, start, used = style[1], 0, 0
        if text.isascii():  # one column a character: cut it into pieces that fit
            while start < len(text):
                fit = (self.columns - self._col) // mag
                if fit <= 0 and self._chars:
                    self._wrap()
                    continue
                piece = text[start : start + max(fit, 1)]
                self._put(piece, len(piece) * mag, style, align)
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
                    self._put(text[start:i], used, style, align)
                self._wrap()
                start, used = i, 0
            used += w
        if start < len(text):
            self._put(text[start:], used, style, align)

    def tab(self, style: Style, align: int) -> None:
        """HT: to the next tab stop; at the end of the line, to the first stop of the next."""
        if self._col >= self.columns:
            self._wrap()
        stop = min((self._col // TAB_COLUMNS + 1) * TAB_COLUMNS, self.columns)
        if stop > self._col:
            self._put(" " * (stop - self._col), stop - self._col, (style[0], 1, style[2]), align)

    def end_line(self, *, force: bool, align: int) -> None:
        """Print the line (an empty one too if ``force``: a line feed)."""
        if self._chars or force:
            align = self._line_align if self._chars else align
            self._add_items((PrintedLine(tuple(self._line), align),), 1)
        self.clear_line()

    def feed(self, lines: int) -> None:
        """Blank lines: each is the one shared BLANK, and past the limit only a count."""
        self._add_items(itertools.repeat(BLANK, max(0, lines)), max(0, lines))

    def qr(self, payload: bytes, module_size: int, ec: str, align: int) -> None:
        if len(payload) > MAX_QR_BYTES:
            log.warning(
                "a QR code of %d bytes (at most %d fit): not printed", len(payload), MAX_QR_BYTES
            )
            return
        text = payload.decode("utf-8", errors="replace")
        self._add_items((PrintedQr(text, module_size, ec, align),), 1)

    def image(self, width_bytes: int, height: int, align: int) -> None:
        """A raster image whose bits follow in the raw bytes (kept up to the byte limit)."""
        self._add_items((PrintedImage(width_bytes, height, len(self._raw), align),), 1)

    def cut(self, align: int) -> Document:
        """The document as cut off, with its raw bytes; the next one starts."""
        self.end_line(force=False, align=align)
        doc = self.doc
        doc.raw = bytes(self._raw)
        self.tear_off()
        return doc

    def tear_off(self) -> None:
        """Start afresh: the document so far is gone (cut off, or lost with a finished roll)."""
        self.doc, self._raw, self._raw_full = Document(), bytearray(), False
        self.clear_line()

    def clear_line(self) -> None:
        self._line, self._col, self._chars = [], 0, 0

    def _put(self, text: str, cols: int, style: Style, align: int) -> None:
        """Append text of ``cols`` columns; it fits the line."""
        if not self._chars:
            self._line_align = align
        self._col += cols
        self._chars += len(text)
        if self.doc.lines_dropped:
            return  # past the document's length limit: laid out and counted, not kept
        last = self._line[-1] if self._line else None
        if last and (last.bold, last.width, last.height) == style:
            self._line[-1] = Span(last.text + text, *style)  # at most a line long
        else:
            self._line.append(Span(text, *style))

    def _wrap(self) -> None:
        """The line buffer is full: it is printed and the text carries on below."""
        self.end_line(force=True, align=self._line_align)

    def _add_items(self, items: Iterable[PrintedLine | PrintedQr | PrintedImage], n: int) -> None:
        """Add ``n`` printed lines or codes, up to the document's length limit."""
        doc = self.doc
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
