"""Rendering a document as the paper would look: one pixel per printer dot, a dashed cut."""

from __future__ import annotations

from pathlib import Path

from kiosk.hardware.receipt_escpos import LINE_DOTS, display_width
from kiosk.sim.escpos.document import Document, PrintedImage, PrintedLine, PrintedQr


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
    part = path.with_name(path.name + ".part")  # whoever watches the folder sees whole files
    page.save(part, "PNG")
    part.replace(path)
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
            if not ch.isspace():  # no ink: a line of tabs costs nothing to draw
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
