"""A signature written with a finger: strokes kept as vectors, rendered as a PNG.

The signature pad on screen hands over the strokes it drew, as points in the pad's own units
(0..1 across, 0..1 up, so the size of the pad on screen does not matter). They are kept as they
are (``to_json``: the platform can replay and compare them) and drawn into a picture for the
paper file (``png``). No Kivy here: the strokes are plain numbers.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass

from kiosk.errors import JourneyError

#: the picture's size in pixels: wide, like the box a form gives a signature
PNG_SIZE = (900, 300)
#: ink shorter than this (in pad widths, all strokes together) is a tap, not a signature
MIN_INK = 0.5


class SignatureError(JourneyError):
    message_zh = "签名过短，请用手指在框内写下您的姓名"
    message_en = "That is too short for a signature: write your name in the box with your finger"


@dataclass(frozen=True)
class Signature:
    #: strokes, each a list of (x, y) in 0..1, y up
    strokes: tuple[tuple[tuple[float, float], ...], ...]
    #: the pad's width / height on screen, so the picture keeps the writing's proportions
    aspect: float = 3.0

    def __repr__(self) -> str:
        return f"Signature({len(self.strokes)} strokes)"

    @property
    def ink(self) -> float:
        """Total length of the strokes, in pad widths."""
        total = 0.0
        for stroke in self.strokes:
            for (x0, y0), (x1, y1) in zip(stroke, stroke[1:], strict=False):
                total += math.hypot(x1 - x0, (y1 - y0) / self.aspect)
        return total

    def check(self) -> None:
        if not self.strokes or self.ink < MIN_INK:
            raise SignatureError(f"signature has {self.ink:.2f} pad widths of ink")

    def to_json(self) -> bytes:
        return json.dumps({"aspect": round(self.aspect, 4),
                           "strokes": [[[round(x, 4), round(y, 4)] for x, y in s] for s in self.strokes]},
                          separators=(",", ":")).encode()

    def png(self) -> bytes:
        """Black ink on white, with the strokes' joints rounded."""
        from PIL import Image, ImageDraw

        w, h = PNG_SIZE
        image = Image.new("L", (w, h), 255)
        draw = ImageDraw.Draw(image)
        pen = max(3, w // 150)
        for stroke in self.strokes:
            points = [(x * (w - 1), (1 - y) * (h - 1)) for x, y in stroke]
            if len(points) == 1:
                x, y = points[0]
                draw.ellipse([x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2], fill=0)
            else:
                draw.line(points, fill=0, width=pen, joint="curve")
        out = io.BytesIO()
        image.save(out, "PNG", optimize=True)
        return out.getvalue()
