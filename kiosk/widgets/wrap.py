"""Labels that break lines where a reader expects: Chinese between any two characters, a number,
a code or an English word never in the middle.

Kivy's own wrapping breaks only at spaces; a Chinese sentence has none, so Kivy cuts it where
the line is full, and a number inside it with it ("掌上123 / 33 App", "20 / 26年"). A
``WrapLabel`` lays its text out itself with the rule of ``kiosk.linebreak`` (the one the
receipts and certificates use) and gives Kivy lines that already fit. ``source_text`` is the
text as written; ``text`` is what is drawn, with the line breaks in it.
"""

from __future__ import annotations

from functools import lru_cache

from kivy.core.text import Label as CoreLabel
from kivy.properties import StringProperty
from kivy.uix.label import Label

from kiosk.linebreak import wrap

#: a line is given this share of the width (glyphs measured one by one, without kerning, add
#: up to a little more than the line drawn whole: the sum is on the safe side already)
MARGIN = 1.0


@lru_cache(maxsize=16384)
def _width(ch: str, size: float, bold: bool, font: str) -> float:
    return CoreLabel(font_size=size, bold=bold, font_name=font).get_extents(ch)[0]


@lru_cache(maxsize=4096)
def lines(text: str, width: float, size: float, bold: bool = False, font: str = "Roboto") -> str:
    """``text`` with line breaks where it must break to fit ``width`` (pixels). Kept: the same
    label is laid out again at the same width on every visit and at every 大字版 or language
    switch (of every screen built, shown or not), and the answer cannot change."""
    if not text or width <= size:
        return text
    room = width * MARGIN
    # a line's width, kept: the wrap asks for each line again grown by one character, and
    # summing it afresh each time made a long paragraph quadratic (a guide's first visit: 80 ms)
    known: dict[str, float] = {"": 0.0}

    def measure(line: str) -> float:
        w = known.get(line)
        if w is None:
            w = known[line] = measure(line[:-1]) + _width(line[-1], size, bold, font)
        return w

    def fits(line: str) -> bool:
        return measure(line) <= room

    return "\n".join("\n".join(wrap(para, fits)) for para in text.split("\n"))


class WrapLabel(Label):
    """A label whose ``source_text`` is wrapped by the reader's rule into ``text``."""

    source_text = StringProperty("")

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.fbind("source_text", self._relayout)
        self.fbind("width", self._relayout)
        self.fbind("font_size", self._relayout)
        self.fbind("bold", self._relayout)
        self._relayout()

    def _relayout(self, *_args) -> None:
        self.text = lines(self.source_text, self.width, self.font_size, self.bold, self.font_name)
