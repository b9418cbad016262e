"""A receipt printer in software: a loopback TCP ESC/POS endpoint that parses what it is sent.

The real driver (python-escpos ``Network``) talks to it exactly as to a network printer on
port 9100. It answers real-time status (``DLE EOT n``) and ``GS r 1``, can run out of paper
(at once or part-way through a job), go offline or go silent, keeps every cut-delimited
document as parsed lines and QR payloads plus the raw bytes, and renders a document to a PNG
so that a reviewer can see the receipt. Run it on its own with
``python -m kiosk.sim.escpos_emulator --port 9100 --out var/receipts``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.hardware.base import PaperStatus
from kiosk.hardware.receipt_escpos import LINE_DOTS, display_width

log = logging.getLogger(__name__)

MAX_DOCUMENT_BYTES = 1 << 20  # raw bytes kept per document; a stream without cuts stays bounded


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


@dataclass(frozen=True)
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


# --- the byte-stream parser -----------------------------------------------------------------

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
    """

    def __init__(self, state: PrinterState, on_document, encoding: str = "gb18030") -> None:
        self.state = state
        self.on_document = on_document
        self.encoding = encoding
        self._buf = bytearray()
        self._skip = 0
        self._reset_modes()
        self._doc = Document()
        self._doc_raw = bytearray()
        self._line: list[Span] = []
        self._line_align = 0
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
        if len(self._doc_raw) < MAX_DOCUMENT_BYTES:
            self._doc_raw += data[: MAX_DOCUMENT_BYTES - len(self._doc_raw)]

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
            self._add_text(" " * (8 - self._columns() % 8))
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
            self._line = []
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
            blank = arg - 1 if self._line else arg
            self._end_line(force=bool(self._line))
            for _ in range(max(0, blank)):
                self._doc.items.append(PrintedLine(()))
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
            self._doc, self._doc_raw = Document(), bytearray()
        elif k == ord("v") and printing and len(unit) >= 8:  # the bits follow in the raw bytes
            self._end_line(force=False)
            width, height = unit[4] + (unit[5] << 8), unit[6] + (unit[7] << 8)
            self._doc.items.append(PrintedImage(width, height, len(self._doc_raw), self.align))
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
                payload = self.qr_data.decode("utf-8", errors="replace")
                self._doc.items.append(PrintedQr(payload, self.qr_size, self.qr_ec, self.align))

    def _columns(self) -> int:
        return sum(display_width(s.text) * s.width for s in self._line)

    def _add_text(self, text: str) -> None:
        if not self._line:
            self._line_align = self.align
        span = Span(text, self.bold, self.width, self.height)
        last = self._line[-1] if self._line else None
        if last and (last.bold, last.width, last.height) == (span.bold, span.width, span.height):
            self._line[-1] = Span(last.text + text, span.bold, span.width, span.height)
        else:
            self._line.append(span)

    def _end_line(self, *, force: bool) -> None:
        if self._line or force:
            align = self._line_align if self._line else self.align
            self._doc.items.append(PrintedLine(tuple(self._line), align))
        self._line = []

    def _tear_off(self) -> None:
        """The paper ran out: what was printed of this receipt is lost with the old roll."""
        self._generation = self.state.generation
        self._doc, self._doc_raw, self._line = Document(), bytearray(), []


# --- rendering a document as the paper would look -------------------------------------------


def render_document_png(
    doc: Document, path: Path, *, columns: int = 32, dots_per_line: int = 384
) -> Path:
    """Draw a receipt at printer resolution (one pixel per dot) with a dashed cut line."""
    import qrcode
    from PIL import Image, ImageDraw, ImageFont

    from kiosk.fonts import cjk_font_path

    cell = dots_per_line // columns  # a half-width character; CJK takes two cells
    font = ImageFont.truetype(str(cjk_font_path()), 2 * cell)
    top, bottom = font.getbbox("刘国Ag")[1::2]
    dy = (LINE_DOTS - (bottom - top)) // 2 - top
    ec_levels = {
        "L": qrcode.constants.ERROR_CORRECT_L,
        "M": qrcode.constants.ERROR_CORRECT_M,
        "Q": qrcode.constants.ERROR_CORRECT_Q,
        "H": qrcode.constants.ERROR_CORRECT_H,
    }
    blocks: list[tuple[Image.Image, int] | PrintedLine] = []
    for item in doc.items:
        if isinstance(item, PrintedQr):
            code = qrcode.QRCode(
                error_correction=ec_levels[item.ec], box_size=item.module_size, border=1
            )
            code.add_data(item.payload)
            code.make(fit=True)
            blocks.append((code.make_image().get_image().convert("L"), item.align))
        elif isinstance(item, PrintedImage):
            blocks.append((item.image(doc.raw).convert("L"), item.align))
        else:
            blocks.append(item)

    def height(block: tuple[Image.Image, int] | PrintedLine) -> int:
        if isinstance(block, PrintedLine):
            return LINE_DOTS * max([s.height for s in block.spans] or [1])
        return block[0].height

    margin = 16
    # the paper is wider than the printable line: a margin on either side
    page = Image.new(
        "L", (dots_per_line + 2 * margin, sum(map(height, blocks)) + 2 * margin + 12), 255
    )
    draw = ImageDraw.Draw(page)
    y = margin
    for block in blocks:
        h = height(block)
        if isinstance(block, PrintedLine):
            _draw_line(page, block, margin, y, h, cell, font, dy)
        else:
            image, align = block
            x = {0: 0, 1: (dots_per_line - image.width) // 2, 2: dots_per_line - image.width}[align]
            page.paste(image, (margin + max(0, x), y))
        y += h
    for x in range(0, page.width, 16):  # the cut
        draw.line([(x, y + margin), (x + 8, y + margin)], fill=0, width=2)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.save(path, "PNG")
    return path


def _draw_line(page, line: PrintedLine, x0: int, y: int, h: int, cell: int, font, dy: int) -> None:
    from PIL import Image, ImageDraw

    total = sum(display_width(s.text) * s.width for s in line.spans) * cell
    printable = page.width - 2 * x0
    x = x0 + {0: 0, 1: (printable - total) // 2, 2: printable - total}[line.align]
    for span in line.spans:
        cols = display_width(span.text)
        if cols == 0:
            continue
        strip = Image.new("L", (cols * cell, LINE_DOTS), 255)
        draw = ImageDraw.Draw(strip)
        cx = 0
        for ch in span.text:  # one character per cell, as a printer lays them out
            draw.text((cx, dy), ch, font=font, fill=0)
            if span.bold:  # printers embolden by striking each dot twice, one dot apart
                draw.text((cx + 1, dy), ch, font=font, fill=0)
            cx += display_width(ch) * cell
        if span.width > 1 or span.height > 1:
            strip = strip.resize(
                (strip.width * span.width, strip.height * span.height), Image.NEAREST
            )
        page.paste(strip, (max(0, x), y + h - strip.height))
        x += strip.width


# --- the TCP endpoint -----------------------------------------------------------------------


class PrinterEmulator:
    """A network receipt printer on loopback. ``start()`` binds (port 0 = any free port)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        encoding: str = "gb18030",
        columns: int = 32,
        dots_per_line: int = 384,
        out_dir: Path | None = None,
    ) -> None:
        self.host, self._requested_port = host, port
        self.encoding, self.columns, self.dots_per_line = encoding, columns, dots_per_line
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.state = PrinterState()
        self._documents: list[Document] = []
        self._raw = bytearray()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self.port = 0

    # lifecycle
    def start(self) -> PrinterEmulator:
        listener = socket.create_server((self.host, self._requested_port))
        listener.settimeout(0.2)  # so the accept loop notices stop()
        self._listener, self.port = listener, listener.getsockname()[1]
        self._spawn(self._accept_loop, "escpos-emulator")
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.close()
        for t in list(self._threads):
            if t is not threading.current_thread():
                t.join(timeout=2)

    def __enter__(self) -> PrinterEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    # what a test or the simulator panel can do to the printer
    def set_paper(self, paper: PaperStatus) -> None:
        self.state.set_paper(paper)

    def run_out_after(self, n_bytes: int) -> None:
        """Print ``n_bytes`` more bytes of print data, then run out of paper."""
        with self.state.lock:
            self.state.run_out_budget = n_bytes

    def set_silent(self, silent: bool) -> None:
        self.state.silent = silent

    def set_offline(self, offline: bool) -> None:
        """Cover open: nothing prints and DLE EOT 1 reports offline."""
        self.state.offline = offline

    # what came out
    @property
    def documents(self) -> list[Document]:
        with self._lock:
            return list(self._documents)

    @property
    def raw(self) -> bytes:
        with self._lock:
            return bytes(self._raw)

    def clear(self) -> int:
        """Forget every page printed so far (a long run would keep them all); how many went."""
        with self._lock:
            dropped = len(self._documents)
            self._documents.clear()
            self._raw.clear()
        return dropped

    def wait_for_documents(self, count: int, timeout: float = 5.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: len(self._documents) >= count, timeout)

    def render_png(self, path: str | Path, index: int = -1) -> Path:
        return render_document_png(
            self.documents[index],
            Path(path),
            columns=self.columns,
            dots_per_line=self.dots_per_line,
        )

    # internals
    def _spawn(self, target, name: str, *args) -> None:
        t = threading.Thread(target=target, args=args, name=name, daemon=True)
        self._threads.append(t)
        t.start()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # listener closed by stop()
            self._threads = [t for t in self._threads if t.is_alive()]
            self._spawn(self._serve, "escpos-emulator-conn", conn)

    def _serve(self, conn: socket.socket) -> None:
        parser = EscposParser(self.state, self._add_document, self.encoding)
        conn.settimeout(0.2)
        with conn:
            while not self._stop.is_set():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                with self._lock:
                    self._raw += data
                replies = parser.feed(data)
                if replies and not self.state.silent:
                    try:
                        conn.sendall(replies)
                    except OSError:
                        return

    def _add_document(self, doc: Document) -> None:
        with self._changed:
            self._documents.append(doc)
            index = len(self._documents)
            self._changed.notify_all()
        if self.out_dir is not None:
            try:
                self.render_png(self.out_dir / f"receipt-{index:04d}.png", index - 1)
            except Exception:  # a missing font or a full disk must not take the printer down
                log.exception("cannot render receipt %d to %s", index, self.out_dir)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="ESC/POS receipt printer emulator on loopback TCP")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9100)
    ap.add_argument("--out", type=Path, help="write a PNG per printed receipt here")
    ap.add_argument("--columns", type=int, default=32, help="32 for 58 mm paper, 48 for 80 mm")
    ap.add_argument("--encoding", default="gb18030")
    args = ap.parse_args(argv)
    dots = 576 if args.columns >= 48 else 384
    emulator = PrinterEmulator(
        args.host,
        args.port,
        encoding=args.encoding,
        columns=args.columns,
        dots_per_line=dots,
        out_dir=args.out,
    )
    emulator.start()
    print(f"printer emulator listening on {emulator.url}", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    emulator.stop()
    print(f"{len(emulator.documents)} receipt(s) printed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
