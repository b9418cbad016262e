"""A phone held to the scanner window: what 扫码核验 and 付款码支付 ask the resident to do.

Drawn like the card pictures (``kiosk.widgets.pictures``): Kivy graphics, sharp at any size,
a slow loop while on screen (the phone comes down to the window, the scan line lights up),
still for screenshots, and an arrow towards where the scanner is on the cabinet
(``[ui] scanner_at``). ``shows`` says what is on the phone: an identity code (电子社保卡 / 电子身份证,
a QR code under a card-coloured band) or a payment code (a barcode above a QR code).
"""

from __future__ import annotations

from kivy.graphics import Color, Line, Rectangle
from kivy.metrics import dp
from kivy.properties import OptionProperty

from kiosk.widgets.card import CardShape
from kiosk.widgets.pictures import CardPicture
from kiosk.widgets.theme import COLOURS, hex_rgba

_PHONE = "#2B303B"
_SCREEN = "#FFFFFF"
_SCANNER = "#3A4150"
_BAND = {"identity": "#C8453A", "payment": "#2E7D5B"}  # 电子社保卡 red band / a payment app's green


class ScanPicture(CardPicture):
    """The scanner's window, and a phone showing a code coming down onto it."""

    shows = OptionProperty("identity", options=["identity", "payment"])

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.bind(shows=self._draw)

    def _draw(self, *_args) -> None:
        self.canvas.clear()
        if self.width < 10 or self.height < 10:
            return
        self._draw_phone()
        self._draw_arrow()

    def _draw_phone(self) -> None:
        x, y, w, h = self._box()
        # the scanner: a dark housing with a window that shows a red line while it reads
        base_w = min(w * 0.7, h * 1.1)
        base_h = base_w * 0.26
        bx, by = x + (w - base_w) / 2, y + h * 0.06
        win_w, win_h = base_w * 0.6, base_h * 0.42
        wx, wy = bx + (base_w - win_w) / 2, by + base_h * 0.45
        with self.canvas:
            CardShape(pos=(bx, by), size=(base_w, base_h), radius=dp(10), fill=hex_rgba(_SCANNER))
            CardShape(pos=(wx, wy), size=(win_w, win_h), radius=dp(6), fill=(0.1, 0.12, 0.16, 1))
            Color(*hex_rgba(COLOURS["error"], 0.35 + 0.65 * self.progress))
            Rectangle(pos=(wx + win_w * 0.08, wy + win_h * 0.45), size=(win_w * 0.84, max(dp(2), win_h * 0.1)))
        # the phone: upright, screen towards the window, coming down onto it
        rest_y = wy + win_h + dp(8)
        room = max(dp(20), (y + h) - rest_y)  # the phone never leaves the picture's box
        ph_h = min(base_w * 0.46 * 1.9, room * 0.72)
        ph_w = ph_h / 1.9
        travel = (room - ph_h) * 0.9
        px = x + (w - ph_w) / 2
        py = rest_y + travel * self._moved()
        with self.canvas:
            CardShape(pos=(px + dp(5), py - dp(5)), size=(ph_w, ph_h), radius=dp(16), fill=(0, 0, 0, 0.18))
            CardShape(pos=(px, py), size=(ph_w, ph_h), radius=dp(16), fill=hex_rgba(_PHONE))
            sx, sy, sw, sh = px + ph_w * 0.07, py + ph_h * 0.06, ph_w * 0.86, ph_h * 0.86
            CardShape(pos=(sx, sy), size=(sw, sh), radius=dp(8), fill=hex_rgba(_SCREEN))
            Color(*hex_rgba(_BAND[self.shows]))
            Rectangle(pos=(sx, sy + sh * 0.8), size=(sw, sh * 0.2))
        if self.shows == "payment":
            self._barcode(sx + sw * 0.1, sy + sh * 0.62, sw * 0.8, sh * 0.12)
            self._qr(sx + sw * 0.2, sy + sh * 0.12, sw * 0.6)
        else:
            self._qr(sx + sw * 0.14, sy + sh * 0.2, sw * 0.72)

    def _qr(self, qx: float, qy: float, side: float) -> None:
        """A QR-like pattern: three finder squares and a fixed scatter of modules."""
        cell = side / 21
        with self.canvas:
            Color(0.1, 0.1, 0.12, 1)
            for fx, fy in ((0, 14), (14, 14), (0, 0)):
                Line(rectangle=(qx + fx * cell, qy + fy * cell, 7 * cell, 7 * cell), width=max(1.0, cell * 0.5))
                Rectangle(pos=(qx + (fx + 2) * cell, qy + (fy + 2) * cell), size=(3 * cell, 3 * cell))
            for i in range(21):
                for j in range(21):
                    finder = (i < 8 and (j < 8 or j > 12)) or (i > 12 and j > 12)
                    if not finder and (i * 7 + j * 13 + i * j) % 5 in (0, 2):
                        Rectangle(pos=(qx + i * cell, qy + j * cell), size=(cell, cell))

    def _barcode(self, bx: float, by: float, bw: float, bh: float) -> None:
        with self.canvas:
            Color(0.1, 0.1, 0.12, 1)
            step = bw / 40
            for i in range(40):
                if (i * 5 + i // 3) % 3:
                    Rectangle(pos=(bx + i * step, by), size=(step * (0.5 + 0.4 * (i % 2)), bh))
