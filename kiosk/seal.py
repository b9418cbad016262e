"""The issuer's round seal (电子印章) printed on a certificate, drawn in code.

A Chinese official seal: a ring, the issuer's name running clockwise round the top, a
five-pointed star in the middle and the seal's purpose across the bottom (证明专用章). A
certificate from a test or simulated platform says so in its document (``specimen``), and
its seal reads 样章 instead: a specimen is never mistaken for the real thing.

``draw`` gives an image whose alpha channel is the ink; the A4 page lays it over the text in
red (``kiosk.services.certificate_pdf``), the receipt printer gets it as a 1-bit raster
(``kiosk.hardware.receipt_escpos``). Pure Pillow, no I/O besides reading the CJK font.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from kiosk.fonts import cjk_font_path

RED = (205, 22, 28)
SPECIMEN_TEXT = "样章"
PURPOSE_TEXT = "证明专用章"
MAX_ARC_DEGREES = 250.0  # the name never runs further round than this


@dataclass(frozen=True)
class Seal:
    issuer: str  # e.g. 宁阳县社会保险事业中心
    specimen: bool = False

    @property
    def purpose(self) -> str:
        return SPECIMEN_TEXT if self.specimen else PURPOSE_TEXT


def _font(px: float) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(cjk_font_path()), max(6, round(px)))


def _star(cx: float, cy: float, outer: float) -> list[tuple[float, float]]:
    inner = outer * 0.382  # a regular five-pointed star
    points = []
    for k in range(10):
        r = outer if k % 2 == 0 else inner
        a = math.radians(-90 + 36 * k)
        points.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    return points


def _arc_text(mask: Image.Image, text: str, size: int) -> None:
    """The issuer's name clockwise round the top, each character upright towards the rim."""
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return
    ring = size * 0.045
    glyph = size * 0.135
    radius = size / 2 - ring - glyph * 0.72
    pitch = math.degrees(2 * math.asin(min(1.0, glyph * 1.02 / 2 / radius)))
    if pitch * (len(chars) - 1) > MAX_ARC_DEGREES:  # a long name: smaller characters, closer
        pitch = MAX_ARC_DEGREES / (len(chars) - 1)
        glyph = 2 * radius * math.sin(math.radians(pitch) / 2) / 1.02
        radius = size / 2 - ring - glyph * 0.72
    font = _font(glyph)
    span = pitch * (len(chars) - 1)
    box = round(glyph * 1.6)
    for i, ch in enumerate(chars):
        angle = -90 - span / 2 + i * pitch  # degrees, clockwise from 3 o'clock
        cell = Image.new("L", (box, box), 0)
        ImageDraw.Draw(cell).text((box / 2, box / 2), ch, font=font, fill=255, anchor="mm",
                                  stroke_width=max(1, round(glyph * 0.035)), stroke_fill=255)
        cell = cell.rotate(-(angle + 90), resample=Image.BICUBIC)
        x = size / 2 + radius * math.cos(math.radians(angle)) - box / 2
        y = size / 2 + radius * math.sin(math.radians(angle)) - box / 2
        mask.paste(255, (round(x), round(y)), cell)


@lru_cache(maxsize=16)
def draw(seal: Seal, size: int) -> Image.Image:
    """The seal as an ``L`` image ``size`` pixels square: 255 where the ink is, 0 elsewhere."""
    if size < 48:
        raise ValueError("a seal needs at least 48 pixels to be legible")
    mask = Image.new("L", (size, size), 0)
    d = ImageDraw.Draw(mask)
    ring = size * 0.045
    d.ellipse((ring / 2, ring / 2, size - ring / 2, size - ring / 2), outline=255, width=max(2, round(ring)))
    d.polygon(_star(size / 2, size / 2, size * 0.17), fill=255)
    _arc_text(mask, seal.issuer, size)
    purpose = seal.purpose
    font = _font(size * (0.12 if seal.specimen else 0.085))
    d.text((size / 2, size * 0.765), purpose, font=font, fill=255, anchor="mm",
           stroke_width=max(1, round(size * 0.004)), stroke_fill=255)
    return mask


def in_colour(seal: Seal, size: int, colour: tuple[int, int, int] = RED) -> Image.Image:
    """The seal as RGB ink on white paper, for laying over a page with a multiply blend."""
    ink = Image.new("RGB", (size, size), colour)
    paper = Image.new("RGB", (size, size), "white")
    return Image.composite(ink, paper, draw(seal, size))


def raster(seal: Seal, size: int) -> Image.Image:
    """The seal as a 1-bit image for a thermal printer (black is ink)."""
    return draw(seal, size).point(lambda v: 0 if v >= 110 else 255, mode="1")
