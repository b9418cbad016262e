"""``CardShape``: a rounded card (fill, border, pressed shade) drawn as one 9-slice picture.

Every card, tile, button and circle of the kiosk is a rounded rectangle with a border. Kivy's
``RoundedRectangle`` is a fan of ~40 long, thin triangles from its centre, and a ``Line`` wider
than one pixel is built of a small triangle fan at every one of its ~120 points (round joints),
even when its colour is transparent. On a terminal without a GPU every frame is rasterised by the
CPU, and those triangles were most of the home page's frame (probe at 1080x1920, llvmpipe:
the 30 borders ~12 ms, the 61 rounded fills ~10 ms, of 26-33 ms).

``CardShape`` draws the same card as a ``BorderImage``: a small picture of the card's corners,
edges and centre, made once per look (radius, border width, colours) with Pillow (4x
supersampled, so the corners are antialiased), whose middle row and column stretch to the card's
size: 18 compact triangles, one fill of the card's area. A card with nothing visible draws
nothing. Use it in a kv ``canvas`` like any instruction::

    CardShape:
        pos: self.pos
        size: self.size
        radius: (app.theme).dp("pad") * 0.6
        fill: rgba((app.theme).colour("surface"))
        line: rgba((app.theme).colour("border"))
        line_width: 2.8
        shade: (0, 0, 0, 0.18) if root.state == "down" else (0, 0, 0, 0)

``line_width`` is the border's thickness in pixels, inside the card's bounds (Kivy's ``Line``
of ``width`` w is 2w thick, half of it outside). ``radius`` is clamped to half the shorter side,
so a square card with ``radius`` of half its side is a circle.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from functools import lru_cache

from kivy.clock import Clock
from kivy.factory import Factory
from kivy.graphics import BorderImage, Color, InstructionGroup
from kivy.graphics.texture import Texture

RGBA = tuple[float, float, float, float]
CLEAR: RGBA = (0.0, 0.0, 0.0, 0.0)
#: supersampling of the corner picture: 4x4 samples per pixel smooth the arc
SUPERSAMPLE = 4
#: looks kept (each a texture of at most a few kB); a 大字版 switch or a theme brings new ones
MAX_LOOKS = 256

_looks: OrderedDict[tuple, tuple[Texture, int]] = OrderedDict()


def _byte(value: float) -> int:
    return max(0, min(255, round(value * 255)))


def _over(top: RGBA, under: RGBA) -> RGBA:
    """``top`` composited over ``under`` (straight alpha)."""
    a = top[3] + under[3] * (1 - top[3])
    if a <= 0:
        return CLEAR
    rgb = [(top[i] * top[3] + under[i] * under[3] * (1 - top[3])) / a for i in range(3)]
    return (rgb[0], rgb[1], rgb[2], a)


def card_picture(radius: int, line_width: float, fill: RGBA, line: RGBA, shade: RGBA = CLEAR,
                 size: tuple[int, int] | None = None):
    """The card's picture as a Pillow RGBA image: a ``size`` card if given, else the smallest
    card a 9-slice can stretch (corners of ``radius`` + 1 px and a 3 px middle)."""
    from PIL import Image, ImageDraw

    if size is None:
        edge = radius + 1
        size = (2 * edge + 3, 2 * edge + 3)
    w, h = size
    s = SUPERSAMPLE
    big = Image.new("RGBA", (w * s, h * s), (0, 0, 0, 0))
    draw = ImageDraw.Draw(big)
    fill = _over(shade, fill) if fill[3] > 0 else fill
    line = _over(shade, line) if line[3] > 0 else line
    box = (0, 0, w * s - 1, h * s - 1)
    inset = line_width * s if line[3] > 0 else 0
    if inset:
        draw.rounded_rectangle(box, radius=radius * s, fill=tuple(_byte(v) for v in line))
    if fill[3] > 0 or inset:
        inner = (box[0] + inset, box[1] + inset, box[2] - inset, box[3] - inset)
        if inner[2] > inner[0] and inner[3] > inner[1]:
            # the fill replaces the border's colour inside it (a clear fill leaves a ring)
            mask = Image.new("L", big.size, 0)
            ImageDraw.Draw(mask).rounded_rectangle(inner, radius=max(0.0, radius * s - inset), fill=255)
            big.paste(tuple(_byte(v) for v in fill), mask=mask)  # type: ignore[arg-type]
    return big.resize((w, h), Image.Resampling.BOX)


def _texture(key: tuple) -> tuple[Texture, int]:
    """The texture of one look (cached) and the width of its fixed border, in pixels."""
    found = _looks.get(key)
    if found is not None:
        _looks.move_to_end(key)
        return found
    radius, line_width, fill, line, shade, size = key
    picture = card_picture(radius, line_width, fill, line, shade, size)
    data = picture.tobytes()
    texture = Texture.create(size=picture.size, colorfmt="rgba")

    def blit(tex: Texture) -> None:  # again after the GL context is lost and remade
        tex.blit_buffer(data, colorfmt="rgba", bufferfmt="ubyte")

    blit(texture)
    texture.add_reload_observer(blit)
    found = (texture, 0 if size else radius + 1)
    _looks[key] = found
    if len(_looks) > MAX_LOOKS:
        _looks.popitem(last=False)
    return found


def placement(pos, size, radius: float, line_width: float, fill: RGBA, line: RGBA, shade: RGBA):
    """Where a card is drawn and the look of its picture: ``((x, y), (w, h), look)`` in whole
    pixels (a crisp border), or None when nothing of it would show. ``look`` is the key of the
    picture: (radius, line width, fill, line, shade, exact size or None for a 9-slice); the
    radius is at most half the shorter side, and a card too small to stretch (a circle, a small
    key) gets a picture of its own size."""
    x0, y0 = round(pos[0]), round(pos[1])
    w, h = round(pos[0] + size[0]) - x0, round(pos[1] + size[1]) - y0
    if w <= 0 or h <= 0 or (fill[3] <= 0 and (line[3] <= 0 or line_width <= 0)):
        return None
    r = max(0, min(math.ceil(radius), w // 2, h // 2))
    edge = r + 1
    exact = (w, h) if (w < 2 * edge + 3 or h < 2 * edge + 3) else None
    look = (r, round(line_width * 4) / 4, _quantise(fill), _quantise(line), _quantise(shade), exact)
    return (x0, y0), (w, h), look


class CardShape(InstructionGroup):
    """A rounded card in a canvas: see the module's docstring."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**{k: v for k, v in kwargs.items() if k in ("group", "noadd")})
        self._pos = (0.0, 0.0)
        self._size = (0.0, 0.0)
        self._radius = 0.0
        self._fill: RGBA = CLEAR
        self._line: RGBA = CLEAR
        self._line_width = 1.0
        self._shade: RGBA = CLEAR
        self._colour = Color(1, 1, 1, 1, noadd=True)
        self._image = BorderImage(noadd=True, auto_scale="off", pos=(0, 0), size=(0, 0))
        self.add(self._colour)
        self.add(self._image)
        self._look: tuple | None = None
        # a kv rule sets the properties one by one: the card is worked out once, before the next
        # frame, not once per property (each half-set look would be a picture of its own)
        self._trigger = Clock.create_trigger(lambda _dt: self._update(), -1)
        looks = {k: v for k, v in kwargs.items() if k not in ("group", "noadd")}
        for name, value in looks.items():
            setattr(self, name, value)
        if looks:  # made in code with its looks given: drawn as it is, at once
            self._trigger.cancel()
            self._update()

    def _update(self) -> None:
        placed = placement(self._pos, self._size, self._radius, self._line_width, self._fill, self._line, self._shade)
        if placed is None:
            self._image.size = (0, 0)  # nothing to see: nothing to fill
            return
        pos, size, look = placed
        if look != self._look:
            texture, border = _texture(look)
            self._image.texture = texture
            self._image.border = (border,) * 4
            self._look = look
        self._image.pos = pos
        self._image.size = size

    def _set(self, name: str, value) -> None:
        setattr(self, name, value)
        self._trigger()

    pos = property(lambda self: self._pos, lambda self, v: self._set("_pos", tuple(v)))
    size = property(lambda self: self._size, lambda self, v: self._set("_size", tuple(v)))
    radius = property(lambda self: self._radius, lambda self, v: self._set("_radius", float(v)))
    fill = property(lambda self: self._fill, lambda self, v: self._set("_fill", _rgba(v)))
    line = property(lambda self: self._line, lambda self, v: self._set("_line", _rgba(v)))
    line_width = property(lambda self: self._line_width, lambda self, v: self._set("_line_width", float(v)))
    shade = property(lambda self: self._shade, lambda self, v: self._set("_shade", _rgba(v)))


def _rgba(value) -> RGBA:
    v = tuple(float(c) for c in value)
    return (v[0], v[1], v[2], v[3] if len(v) > 3 else 1.0)


@lru_cache(maxsize=512)
def _quantise(colour: RGBA) -> RGBA:
    """Colours to the 8 bits the picture keeps: the same look is one cache entry. (A layout
    places every card again; the theme has a few dozen colours, so this is a lookup.)"""
    return tuple(_byte(c) / 255 for c in colour)  # type: ignore[return-value]


Factory.register("CardShape", cls=CardShape)
