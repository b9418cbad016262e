"""A box to sign in with a finger: the strokes are kept as points, in the box's own units.

Each touch that starts inside the box is one stroke; the box grabs it, so a finger that slides
out keeps writing along the edge instead of pressing a button. Points are kept from 0 to 1
across and up (``kiosk.services.signature.Signature`` turns them into a PNG and a record), so
the pad may be drawn at any size, and redrawn after 大字版 changes it.
"""

from __future__ import annotations

from kivy.graphics import Color, Line
from kivy.properties import BooleanProperty, NumericProperty
from kivy.uix.widget import Widget

from kiosk.services.signature import Signature


class SignaturePad(Widget):
    has_ink = BooleanProperty(False)
    #: the layout audit counts the box as something a resident sees (the place to sign)
    draws_ink = True
    #: the pen's width in pixels
    pen = NumericProperty(3.0)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.strokes: list[list[tuple[float, float]]] = []
        self._lines: list[Line] = []
        with self.canvas.after:
            Color(0.05, 0.07, 0.12, 1)
        self.bind(pos=self._redraw, size=self._redraw)

    def _point(self, touch) -> tuple[float, float]:
        x = min(max((touch.x - self.x) / max(self.width, 1), 0.0), 1.0)
        y = min(max((touch.y - self.y) / max(self.height, 1), 0.0), 1.0)
        return x, y

    def _to_screen(self, stroke: list[tuple[float, float]]) -> list[float]:
        points: list[float] = []
        for x, y in stroke:
            points += [self.x + x * self.width, self.y + y * self.height]
        return points

    def on_touch_down(self, touch):
        if self.disabled or not self.collide_point(*touch.pos):
            return super().on_touch_down(touch)
        touch.grab(self)
        stroke = [self._point(touch)]
        self.strokes.append(stroke)
        with self.canvas.after:
            self._lines.append(Line(points=self._to_screen(stroke), width=self.pen, cap="round", joint="round"))
        return True

    def on_touch_move(self, touch):
        if touch.grab_current is not self:
            return super().on_touch_move(touch)
        stroke = self.strokes[-1]
        stroke.append(self._point(touch))
        self._lines[-1].points = self._to_screen(stroke)
        self.has_ink = True
        return True

    def on_touch_up(self, touch):
        if touch.grab_current is not self:
            return super().on_touch_up(touch)
        touch.ungrab(self)
        return True

    def clear(self) -> None:
        for line in self._lines:
            self.canvas.after.remove(line)
        self._lines.clear()
        self.strokes.clear()
        self.has_ink = False

    def _redraw(self, *_args) -> None:
        for line, stroke in zip(self._lines, self.strokes, strict=True):
            line.points = self._to_screen(stroke)

    def signature(self) -> Signature:
        return Signature(strokes=tuple(tuple(s) for s in self.strokes), aspect=self.width / max(self.height, 1))
