"""The document camera's live picture and the pictures of pages taken.

The camera's own thread makes every preview (scaled, colour-converted, flipped, the page's
outline found: ``kiosk.hardware.camera.Preview``); here the UI thread only copies those bytes
into a texture, at the rate the screen polls, and draws the outline on top, green when the
picture is still. A page's small picture (``Page.thumb``) is shown the same way.
"""

from __future__ import annotations

from kivy.graphics import Color, Line, Rectangle
from kivy.graphics.texture import Texture
from kivy.properties import BooleanProperty, NumericProperty
from kivy.uix.widget import Widget

from kiosk.widgets.theme import COLOURS, hex_rgba


def _fit(box_pos, box_size, size) -> tuple[float, float, float, float]:
    """Where a picture of ``size`` is drawn inside the box, kept in proportion and centred."""
    bw, bh = box_size
    w, h = size
    scale = min(bw / w, bh / h) if w and h else 0
    dw, dh = w * scale, h * scale
    return box_pos[0] + (bw - dw) / 2, box_pos[1] + (bh - dh) / 2, dw, dh


class CameraView(Widget):
    """Shows ``Preview`` pictures handed to ``show``; ``has_picture`` is False until the first."""

    has_picture = BooleanProperty(False)
    still = BooleanProperty(False)
    #: the layout audit counts it as something a resident sees, like an image
    draws_ink = True
    #: the last preview shown (its sequence number): a repeated one is not copied again
    seq = NumericProperty(-1)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._texture: Texture | None = None
        self._size = (0, 0)
        self._outline: tuple[tuple[float, float], ...] = ()
        with self.canvas:
            Color(*hex_rgba("#2B2F36"))
            self._back = Rectangle(pos=self.pos, size=self.size)
            Color(1, 1, 1, 1)
            self._picture = Rectangle(pos=self.pos, size=(0, 0))
            self._line_colour = Color(*hex_rgba(COLOURS["warning"]))
            self._line = Line(points=[], width=3, close=True)
        self.bind(pos=self._layout, size=self._layout)

    def show(self, preview) -> None:
        if preview is None:
            self.has_picture = False
            self._picture.size = (0, 0)
            self._line.points = []
            self.seq = -1
            return
        if preview.seq == self.seq:
            return
        if self._texture is None or self._size != (preview.width, preview.height):
            self._texture = Texture.create(size=(preview.width, preview.height), colorfmt="rgb")
            self._size = (preview.width, preview.height)
            self._picture.texture = self._texture
        self._texture.blit_buffer(preview.rgb, colorfmt="rgb", bufferfmt="ubyte")
        self._outline = preview.outline
        self.still = preview.still
        self.seq = preview.seq
        self.has_picture = True
        self._layout()
        self.canvas.ask_update()

    def _layout(self, *_args) -> None:
        self._back.pos, self._back.size = self.pos, self.size
        if not self.has_picture:
            return
        x, y, w, h = _fit(self.pos, self.size, self._size)
        self._picture.pos, self._picture.size = (x, y), (w, h)
        sx = w / self._size[0]
        points = []
        for px, py in self._outline:
            points += [x + px * sx, y + py * sx]
        self._line.points = points
        self._line_colour.rgba = hex_rgba(COLOURS["success" if self.still else "warning"])


class PageThumb(Widget):
    """A page taken, from its small RGB picture (bottom row first), fitted into its box."""

    draws_ink = True

    def __init__(self, page, **kwargs) -> None:
        super().__init__(**kwargs)
        w, h = page.thumb_size
        texture = Texture.create(size=(w, h), colorfmt="rgb")
        texture.blit_buffer(page.thumb, colorfmt="rgb", bufferfmt="ubyte")
        self._size = (w, h)
        with self.canvas:
            Color(*hex_rgba(COLOURS["border"]))
            self._frame = Line(rectangle=(0, 0, 0, 0), width=1.4)
            Color(1, 1, 1, 1)
            self._picture = Rectangle(texture=texture)
        self.bind(pos=self._layout, size=self._layout)

    def _layout(self, *_args) -> None:
        x, y, w, h = _fit(self.pos, self.size, self._size)
        self._picture.pos, self._picture.size = (x, y), (w, h)
        self._frame.rectangle = (x - 2, y - 2, w + 4, h + 4)
