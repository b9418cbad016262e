"""A certificate as an A4 page: one layout, written as a PDF (fpdf2) and drawn as a PNG (Pillow).

The page is laid out once, in millimetres, as a list of marks (text, rules, the QR code);
the PDF writer and the PNG preview both draw those same marks, so the preview a reviewer
opens is the page that is printed. Text widths come from the CJK font's own advance widths
(through Pillow), which are the widths fpdf2 writes into the PDF.

fpdf2 (2.8) embeds the OpenType/CFF Noto Sans SC as a subset CIDFontType0C font with a
ToUnicode map, so the PDF text stays searchable and rare name characters survive.

A certificate is what a resident hands to an office (购房, 落户, 入学), so its holder lines carry
the full name and ID number unless the county masks them (``[certificates]
mask_personal_data``): the page's ``repr`` leaves them out, so no log line can show them.
The issuer's seal (``kiosk.seal``) is stamped in red across the issuer and date, and the
verification block gives the QR code, the code, the address to check it at and one note.

The A4 printer's transport (a CUPS queue) is ``kiosk.hardware.a4printer``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFont

from kiosk import linebreak
from kiosk import seal as seals
from kiosk.fonts import cjk_font_path

PAGE_W, PAGE_H = 210.0, 297.0  # A4, mm
MARGIN = 20.0
BOTTOM = PAGE_H - 22.0  # content stops here; the page footer sits below
PT_MM = 25.4 / 72  # one typographic point in mm
QR_MM = 32.0
SEAL_MM = 40.0  # the diameter of a county office's round seal
SEAL_PX_PER_MM = 12  # the seal is drawn once at about 300 dpi
VERIFY_NOTE = "扫描左侧二维码或访问核验地址，可查验本证明真伪。"
CLOSING_MM = 6 + SEAL_MM + 2  # the band with the QR code, the issuer and the seal
KEEP_ROWS = 3  # table rows that go to the next page with the seal rather than leave it alone


@dataclass(frozen=True)
class CertificatePage:
    """What the A4 certificate says. ``lines`` start with the holder (full name and ID number
    unless the county masks them), so they stay out of the ``repr``."""

    title: str
    certificate_no: str
    verification_code: str
    verify_url: str
    issuer: str
    issued_on: dt.date
    terminal_id: str
    transaction_no: str
    #: the holder's lines come first; they may hold the full name and ID number
    lines: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    table_header: tuple[str, ...] = ()
    table_rows: tuple[tuple[str, ...], ...] = field(default=(), repr=False)
    footer: tuple[str, ...] = ()
    specimen: bool = False  # the issuing platform says this is a specimen: the seal reads 样章


@dataclass(frozen=True)
class Text:
    x: float  # left edge, mm
    y: float  # baseline, mm
    text: str
    size: float  # points


@dataclass(frozen=True)
class Rule:
    x1: float
    y1: float
    x2: float
    y2: float
    width: float = 0.3  # mm


@dataclass(frozen=True)
class Qr:
    x: float
    y: float
    size: float
    payload: str


@dataclass(frozen=True)
class Stamp:
    """The issuer's seal, laid over whatever is beneath it (ink multiplies, as on paper)."""

    x: float
    y: float
    size: float
    seal: seals.Seal


@dataclass
class Page:
    marks: list[Text | Rule | Qr | Stamp] = field(default_factory=list)


# --- measuring --------------------------------------------------------------------------------


@cache
def _measure_font() -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(cjk_font_path()), 100)


def text_width(text: str, size_pt: float) -> float:
    """Width in mm of ``text`` set at ``size_pt``."""
    return _measure_font().getlength(text) / 100 * size_pt * PT_MM


def wrap(text: str, width_mm: float, size_pt: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width_mm`` (``kiosk.linebreak`` says where)."""
    return linebreak.wrap(text, lambda line: text_width(line, size_pt) <= width_mm)


# --- layout -----------------------------------------------------------------------------------


class _Flow:
    """Places marks top to bottom, starting a new page when the next block would not fit."""

    def __init__(self, cert: CertificatePage) -> None:
        self.cert = cert
        self.pages: list[Page] = []
        self.y = 0.0
        self._new_page()

    @property
    def page(self) -> Page:
        return self.pages[-1]

    def _new_page(self) -> None:
        self.pages.append(Page())
        self.y = MARGIN + 4
        if len(self.pages) > 1:  # a continuation page names what it continues
            self.text_line(f"{self.cert.title}（续） 证明编号：{self.cert.certificate_no}", 9)
            self.y += 2

    def ensure(self, height: float) -> None:
        if self.y + height > BOTTOM:
            self._new_page()

    def text_line(self, text: str, size: float, *, align: str = "left", x: float = MARGIN,
                  width: float = PAGE_W - 2 * MARGIN) -> None:
        lead = size * PT_MM * 1.5
        for line in wrap(text, width, size):
            self.ensure(lead)
            self.y += lead
            w = text_width(line, size)
            left = {"left": x, "center": x + (width - w) / 2, "right": x + width - w}[align]
            self.page.marks.append(Text(left, self.y - lead * 0.3, line, size))

    def grid(self, header: tuple[str, ...], rows: tuple[tuple[str, ...], ...], size: float,
             widths: list[float] | None = None, centred: bool = True, then: float = 0.0) -> None:
        """A ruled table; a row that does not fit moves to the next page with the header again.

        ``then`` is the height of what must follow the table on its last page (the seal and
        the verification block): the last rows move with it rather than leave it alone on a
        page of its own.
        """
        ncols = max([len(header)] + [len(r) for r in rows] + [1])
        total = PAGE_W - 2 * MARGIN
        widths = widths or _column_widths(header, rows, ncols, total, size)
        pad = 1.3
        lead = size * PT_MM * 1.38

        def row_height(cells: tuple[str, ...]) -> tuple[float, list[list[str]]]:
            wrapped = [wrap(str(c), widths[i] - 2 * pad, size) for i, c in enumerate(cells)]
            return max(len(w) for w in wrapped) * lead + 2 * pad, wrapped

        def draw(cells: tuple[str, ...], centred: bool) -> None:
            height, wrapped = row_height(cells)
            top, x = self.y, MARGIN
            self.page.marks.append(Rule(MARGIN, top, MARGIN + total, top))
            for i, lines in enumerate(wrapped):
                for n, line in enumerate(lines):
                    w = text_width(line, size)
                    left = x + (widths[i] - w) / 2 if centred else x + pad
                    self.page.marks.append(Text(left, top + pad + lead * (n + 1) - lead * 0.28, line, size))
                self.page.marks.append(Rule(x, top, x, top + height))
                x += widths[i]
            self.page.marks.append(Rule(x, top, x, top + height))
            self.y = top + height
            self.page.marks.append(Rule(MARGIN, self.y, MARGIN + total, self.y))

        if header:
            self.ensure(row_height(header)[0] + (row_height(rows[0])[0] if rows else 0))
            draw(header, True)
        padded = [tuple(row) + ("",) * (ncols - len(row)) for row in rows]
        heights = [row_height(row)[0] for row in padded]
        keep = min(KEEP_ROWS, len(padded))
        for i, row in enumerate(padded):
            need = heights[i]
            if then and i == len(padded) - keep:  # the last rows and what follows stay together
                need = sum(heights[i:]) + then
            if self.y + need > BOTTOM and self.y > MARGIN + 12:
                self._new_page()
                if header:
                    draw(header, True)
            draw(row, centred)


def _column_widths(header: tuple[str, ...], rows: tuple[tuple[str, ...], ...], ncols: int,
                   total: float, size: float) -> list[float]:
    """Columns share the width in proportion to their widest text, none narrower than 18 mm."""
    need = [18.0] * ncols
    for row in (header, *rows):
        for i, cell in enumerate(row[:ncols]):
            need[i] = max(need[i], text_width(str(cell), size) + 4)
    scale = total / sum(need)
    return [w * scale for w in need]


def _closing(f: _Flow, cert: CertificatePage) -> None:
    """One band across the foot of the content: the QR code with the code, the address and
    the note on the left; issuer and date on the right with the seal stamped across them.
    The band never splits: a seal away from what it certifies certifies nothing."""
    f.ensure(CLOSING_MM)
    top = f.y + 6
    f.page.marks.append(Qr(MARGIN, top, QR_MM, cert.verify_url or cert.verification_code))
    left_x = MARGIN + QR_MM + 5
    issuer = f"出具单位：{cert.issuer}"
    right_w = text_width(issuer, 11.5)
    left_w = PAGE_W - MARGIN - right_w - 6 - left_x
    f.y = top - 1.5
    f.text_line(f"验证码：{cert.verification_code}", 11.5, x=left_x, width=left_w)
    if cert.verify_url:
        f.text_line(f"核验地址：{cert.verify_url}", 9, x=left_x, width=left_w)
    f.text_line(VERIFY_NOTE, 9, x=left_x, width=left_w)
    bottom = f.y
    lead = 11.5 * PT_MM * 1.5
    f.y = top + SEAL_MM / 2 - lead * 1.2
    f.text_line(issuer, 11.5, align="right")
    f.text_line(f"打印日期：{cert.issued_on.year}年{cert.issued_on.month}月{cert.issued_on.day}日", 11.5, align="right")
    # centred on the issuer's name, as a clerk stamps it; never past the paper's edge
    cx = min(PAGE_W - MARGIN - text_width(cert.issuer, 11.5) / 2, PAGE_W - 6 - SEAL_MM / 2)
    f.page.marks.append(Stamp(cx - SEAL_MM / 2, top, SEAL_MM, seals.Seal(cert.issuer, cert.specimen)))
    f.y = max(bottom, top + SEAL_MM, top + QR_MM)


def _pairs(lines: tuple[tuple[str, str], ...]) -> tuple[tuple[str, ...], ...]:
    """Label/value lines two to a row (姓名 王建国 | 证件号码 3709…), as certificates set them."""
    cells = [cell for pair in lines for cell in pair]
    cells += [""] * (-len(cells) % 4)
    return tuple(tuple(cells[i : i + 4]) for i in range(0, len(cells), 4))


def layout(cert: CertificatePage) -> list[Page]:
    """The certificate's pages as marks in millimetres (origin top left)."""
    f = _Flow(cert)
    f.y += 6
    f.text_line(cert.title, 22, align="center")
    f.y += 3
    f.text_line(f"证明编号：{cert.certificate_no}", 10, align="right")
    f.y += 4
    notes = len(cert.footer) * 10 * PT_MM * 1.5 + 4
    if cert.lines:
        label_w = max(text_width(k, 11) for k, _v in cert.lines) + 6
        value_w = (PAGE_W - 2 * MARGIN) / 2 - label_w
        has_table = bool(cert.table_header or cert.table_rows)
        f.grid((), _pairs(cert.lines), 11, widths=[label_w, value_w, label_w, value_w], centred=False,
               then=0 if has_table else notes + CLOSING_MM)
        f.y += 5
    if cert.table_header or cert.table_rows:
        f.grid(cert.table_header, cert.table_rows, 10.5, then=notes + CLOSING_MM)
        f.y += 4
    for line in cert.footer:
        f.text_line(f"注：{line}", 10)
    _closing(f, cert)
    for number, page in enumerate(f.pages, 1):
        foot = f"自助终端 {cert.terminal_id}    业务流水号 {cert.transaction_no}    第 {number} / {len(f.pages)} 页"
        page.marks.append(Rule(MARGIN, PAGE_H - 16, PAGE_W - MARGIN, PAGE_H - 16, 0.2))
        page.marks.append(Text(MARGIN, PAGE_H - 11, foot, 8.5))
    return f.pages


# --- drawing ----------------------------------------------------------------------------------


def _qr_image(payload: str) -> Image.Image:
    import qrcode

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=1)
    qr.add_data(payload)
    qr.make(fit=True)
    return qr.make_image(fill_color="black", back_color="white").get_image().convert("RGB")


def _stamp_image(mark: Stamp) -> Image.Image:
    return seals.in_colour(mark.seal, round(mark.size * SEAL_PX_PER_MM))


def write_pdf(cert: CertificatePage, path: Path) -> Path:
    """Write the certificate as an A4 PDF with the CJK font embedded (subset)."""
    from fpdf import FPDF

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(False)
    pdf.set_title(cert.title)
    pdf.set_creator(f"自助终端 {cert.terminal_id}")
    pdf.set_creation_date(dt.datetime.combine(cert.issued_on, dt.time(12), tzinfo=dt.UTC))
    pdf.add_font("cjk", fname=str(cjk_font_path()))
    for page in layout(cert):
        pdf.add_page()
        for mark in page.marks:
            if isinstance(mark, Text):
                pdf.set_font("cjk", size=mark.size)
                pdf.text(mark.x, mark.y, mark.text)
            elif isinstance(mark, Rule):
                pdf.set_line_width(mark.width)
                pdf.line(mark.x1, mark.y1, mark.x2, mark.y2)
            elif isinstance(mark, Stamp):
                with pdf.local_context(blend_mode="Multiply"):  # the text beneath shows through the ink
                    pdf.image(_stamp_image(mark), x=mark.x, y=mark.y, w=mark.size, h=mark.size)
            else:
                pdf.image(_qr_image(mark.payload), x=mark.x, y=mark.y, w=mark.size, h=mark.size)
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path


def render_png(cert: CertificatePage, path: Path, dpi: int = 110) -> Path:
    """Draw the same pages with Pillow (stacked top to bottom) as a preview image."""
    px = dpi / 25.4
    pages = layout(cert)
    w, h = round(PAGE_W * px), round(PAGE_H * px)
    gap = round(4 * px)
    sheet = Image.new("RGB", (w, h * len(pages) + gap * (len(pages) - 1)), (160, 160, 160))
    fonts: dict[float, ImageFont.FreeTypeFont] = {}
    for n, page in enumerate(pages):
        image = Image.new("RGB", (w, h), "white")
        draw = ImageDraw.Draw(image)
        for mark in page.marks:
            if isinstance(mark, Text):
                font = fonts.get(mark.size)
                if font is None:
                    font = fonts[mark.size] = ImageFont.truetype(str(cjk_font_path()), round(mark.size * PT_MM * px))
                draw.text((mark.x * px, mark.y * px), mark.text, font=font, fill="black", anchor="ls")
            elif isinstance(mark, Rule):
                draw.line((mark.x1 * px, mark.y1 * px, mark.x2 * px, mark.y2 * px), fill="black",
                          width=max(1, round(mark.width * px)))
            elif isinstance(mark, Stamp):
                side = round(mark.size * px)
                box = (round(mark.x * px), round(mark.y * px), round(mark.x * px) + side, round(mark.y * px) + side)
                ink = _stamp_image(mark).resize((side, side), Image.Resampling.LANCZOS)
                image.paste(ImageChops.multiply(image.crop(box), ink), box[:2])
            else:
                side = round(mark.size * px)
                image.paste(_qr_image(mark.payload).resize((side, side), Image.Resampling.NEAREST),
                            (round(mark.x * px), round(mark.y * px)))
        sheet.paste(image, (0, n * (h + gap)))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)
    return path


def save(cert: CertificatePage, folder: Path, stem: str) -> tuple[Path, Path]:
    """The PDF and its PNG preview in ``folder`` as ``<stem>.pdf`` / ``<stem>.png``."""
    return write_pdf(cert, folder / f"{stem}.pdf"), render_png(cert, folder / f"{stem}.png")
