"""Pictures that show instead of tell: the ID card laid flat on the reader, the social-security
card going chip-first into its slot, papers coming out of the printer, with an arrow towards
where that part is on the cabinet.

Drawn with Kivy graphics (no image files), so they are sharp at any size and in 大字版. A
picture moves in a slow loop while it is on screen (``action``: "place" moves the card onto
or into the reader, "take" lifts it away) at a low frame rate: on a terminal without a GPU
every frame redraws the whole window, and a resident's touch must never wait for an
animation. ``AppOptions.animate = False`` (screenshots) draws the picture still, mid-way.
"""

from __future__ import annotations

import math

from kivy.app import App
from kivy.clock import Clock
from kivy.graphics import Color, Line, Rectangle, Triangle
from kivy.metrics import dp
from kivy.properties import NumericProperty, OptionProperty
from kivy.uix.widget import Widget

from kiosk.widgets.card import CardShape
from kiosk.widgets.theme import COLOURS, hex_rgba

FPS = 12  # smooth enough for a card sliding, cheap enough on a CPU-rendered screen
LOOP_S = 2.4  # one place/take movement, then a pause
STILL_AT = 0.7  # where a still picture is drawn (screenshots)

_CARD_BLUE = "#DCE9F7"
_CARD_EDGE = "#5B7FAE"
_READER = "#3A4150"
_READER_TOP = "#596276"
_CHIP = "#C9A43B"
_SSCARD = "#F3DDD8"
_SSCARD_EDGE = "#A0463A"


class CardPicture(Widget):
    """One device and what goes into it, drawn to fit the widget's box."""

    kind = OptionProperty("idcard", options=["idcard", "sscard", "paper"])
    action = OptionProperty("place", options=["place", "take"])
    #: where the device is on the cabinet, seen from the resident: the arrow points there
    arrow = OptionProperty("below", options=["below", "right", "left", "none"])
    #: 0..1 through one movement; driven by the loop, or fixed for a still picture
    progress = NumericProperty(STILL_AT)

    _event = None
    _t = 0.0
    draws_ink = True  # a picture: never a bare band (kiosk.tours.layout)

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.bind(pos=self._draw, size=self._draw, kind=self._draw, action=self._draw, arrow=self._draw,
                  progress=self._draw)

    # --- the loop: only while the picture is on screen ----------------------------------------

    def on_parent(self, *_args) -> None:
        self.stop()

    def start(self) -> None:
        """Begin the loop (the screen calls it on enter)."""
        app = App.get_running_app()
        options = getattr(app, "options", None)
        if options is not None and not getattr(options, "animate", True):
            self.progress = STILL_AT
            return
        if self._event is None:
            self._t = 0.0
            self._event = Clock.schedule_interval(self._tick, 1.0 / FPS)

    def stop(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None

    def _tick(self, dt: float) -> None:
        self._t = (self._t + dt) % (LOOP_S + 1.0)
        move = min(1.0, self._t / LOOP_S)
        self.progress = 0.5 - 0.5 * math.cos(math.pi * move)  # ease in and out

    # --- drawing ------------------------------------------------------------------------------

    def _draw(self, *_args) -> None:
        self.canvas.clear()
        if self.width < 10 or self.height < 10:
            return
        if self.kind == "idcard":
            self._draw_idcard()
        elif self.kind == "sscard":
            self._draw_sscard()
        else:
            self._draw_paper()
        self._draw_arrow()

    def _moved(self) -> float:
        """How far the card is from the reader, 0 (on it) .. 1 (away)."""
        return 1.0 - self.progress if self.action == "place" else self.progress

    def _frame(self) -> tuple[float, float, float, float]:
        """The widget's box, at most about as tall as it is wide (centred): a card that lifts
        away stays near its reader however tall the space the screen gives the picture."""
        w = self.width
        h = min(self.height, w * 1.1)
        return self.x, self.y + (self.height - h) / 2, w, h

    def _box(self) -> tuple[float, float, float, float]:
        """The drawing area, leaving room for the arrow on its side."""
        x, y, w, h = self._frame()
        room = min(w, h) * 0.22
        if self.arrow == "below":
            return x, y + room, w, h - room
        if self.arrow == "right":
            return x, y, w - room, h
        if self.arrow == "left":
            return x + room, y, w - room, h
        return x, y, w, h

    def _draw_idcard(self) -> None:
        x, y, w, h = self._box()
        # the reader: a dark pad seen from the front, its reading surface on top
        pad_w = min(w * 0.8, h * 1.3)
        pad_h = pad_w * 0.28
        px, py = x + (w - pad_w) / 2, y + h * 0.08
        with self.canvas:
            CardShape(pos=(px, py), size=(pad_w, pad_h), radius=dp(10), fill=hex_rgba(_READER))
            CardShape(pos=(px + pad_w * 0.06, py + pad_h * 0.55), size=(pad_w * 0.88, pad_h * 0.32), radius=dp(6), fill=hex_rgba(_READER_TOP))
            Color(*hex_rgba(COLOURS["success"]))
            Rectangle(pos=(px + pad_w * 0.82, py + pad_h * 0.18), size=(pad_w * 0.06, pad_h * 0.14))
        # the card: lies flat, photo side up, comes down onto the reading surface
        card_w = pad_w * 0.72
        card_h = card_w * 0.63
        rest_y = py + pad_h * 0.62
        lift = (h - (rest_y - y) - card_h) * 0.9
        cx = x + (w - card_w) / 2
        cy = rest_y + lift * self._moved()
        self._card(cx, cy, card_w, card_h, _CARD_BLUE, _CARD_EDGE, chip=False)

    def _draw_sscard(self) -> None:
        x, y, w, h = self._box()
        # the reader's front: a slot across the middle of a panel
        panel_w = min(w * 0.8, h * 1.2)
        panel_h = panel_w * 0.32
        px, py = x + (w - panel_w) / 2, y + h * 0.06
        slot_w = panel_w * 0.62
        slot_y = py + panel_h * 0.55
        card_w = slot_w * 0.9
        card_h = card_w * 0.63
        sx = x + (w - slot_w) / 2
        # the card stands upright above the slot, chip end first (downwards), going in
        inside = card_h * 0.55  # how far it goes in when fully inserted
        travel = (h - (slot_y - y) - card_h * 0.45) * 0.85
        cx = x + (w - card_w) / 2
        cy = slot_y - inside + (inside + travel) * self._moved()
        self._card(cx, cy, card_w, card_h, _SSCARD, _SSCARD_EDGE, chip=True)
        with self.canvas:
            CardShape(pos=(px, py), size=(panel_w, slot_y - py), radius=dp(10), fill=hex_rgba(_READER))
            CardShape(pos=(sx, slot_y - dp(5)), size=(slot_w, dp(10)), radius=dp(4), fill=(0.08, 0.09, 0.12, 1))

    def _draw_paper(self) -> None:
        x, y, w, h = self._box()
        slot_w = min(w * 0.7, h)
        sx = x + (w - slot_w) / 2
        top = y + h * 0.92
        with self.canvas:
            CardShape(pos=(sx - dp(12), top - dp(36)), size=(slot_w + dp(24), dp(36)), radius=dp(8), fill=hex_rgba(_READER))
        paper_w = slot_w * 0.8
        length = (h * 0.75) * (0.35 + 0.65 * self.progress)
        px = x + (w - paper_w) / 2
        with self.canvas:
            Color(1, 1, 1, 1)
            Rectangle(pos=(px, top - dp(36) - length), size=(paper_w, length))
            Color(*hex_rgba(COLOURS["border"]))
            Line(rectangle=(px, top - dp(36) - length, paper_w, length), width=1.2)
            for i in range(1, 6):
                ly = top - dp(36) - i * length / 7
                Line(points=[px + paper_w * 0.12, ly, px + paper_w * (0.88 - 0.1 * (i % 2)), ly], width=1.5)

    def _card(self, cx: float, cy: float, cw: float, ch: float, fill: str, edge: str, *, chip: bool) -> None:
        with self.canvas:
            CardShape(pos=(cx + dp(5), cy - dp(5)), size=(cw, ch), radius=dp(12), fill=(0, 0, 0, 0.18))
            CardShape(pos=(cx, cy), size=(cw, ch), radius=dp(12), fill=hex_rgba(fill), line=hex_rgba(edge),
                      line_width=4)
            if chip:  # the chip sits near the lower edge: that end goes in first
                CardShape(pos=(cx + cw * 0.12, cy + ch * 0.14), size=(cw * 0.16, ch * 0.2), radius=dp(4), fill=hex_rgba(_CHIP))
                Color(*hex_rgba(edge))
                for i in range(4):
                    ly = cy + ch * (0.55 + 0.09 * i)
                    Line(points=[cx + cw * 0.12, ly, cx + cw * (0.85 - 0.12 * (i % 2)), ly], width=1.6)
            else:  # a photo on the right, lines of text on the left, as on the ID card's face
                CardShape(pos=(cx + cw * 0.66, cy + ch * 0.22), size=(cw * 0.24, ch * 0.56), radius=dp(6), fill=hex_rgba(edge, 0.35))
                Color(*hex_rgba(edge))
                for i in range(5):
                    ly = cy + ch * (0.2 + 0.14 * i)
                    Line(points=[cx + cw * 0.08, ly, cx + cw * (0.56 - 0.12 * (i % 2)), ly], width=1.6)

    def _draw_arrow(self) -> None:
        if self.arrow == "none":
            return
        x, y, w, h = self._frame()
        room = min(w, h) * 0.22
        bob = dp(10) * math.sin(math.pi * self.progress)
        size = room * 0.8
        with self.canvas:
            Color(*hex_rgba(COLOURS["primary"]))
            if self.arrow == "below":
                tip_x, tip_y = x + w / 2, y + room * 0.08 - bob
                Triangle(points=[tip_x, tip_y, tip_x - size * 0.5, tip_y + size * 0.5,
                                 tip_x + size * 0.5, tip_y + size * 0.5])
                Rectangle(pos=(tip_x - size * 0.16, tip_y + size * 0.5), size=(size * 0.32, size * 0.42))
            else:
                sign = 1 if self.arrow == "right" else -1
                tip_x = (x + w - room * 0.08 + bob) if sign > 0 else (x + room * 0.08 - bob)
                tip_y = y + h / 2
                Triangle(points=[tip_x, tip_y, tip_x - sign * size * 0.5, tip_y + size * 0.5,
                                 tip_x - sign * size * 0.5, tip_y - size * 0.5])
                bx = tip_x - sign * (size * 0.5 + size * 0.42)
                Rectangle(pos=(min(bx, bx + sign * size * 0.42), tip_y - size * 0.16), size=(size * 0.42, size * 0.32))
