"""Shrink a label's English just enough that its longest word fits on one line.

Chinese wraps between any two characters; an English word cannot, and Kivy breaks one that
is wider than its label in the middle ("Simulat/or"). Narrow buttons in 大字版 meet that with
words like "Simulator" or "certificates". The size never drops below ``floor`` of the theme's
size, so the text stays large; measured widths are cached per word and size.
"""

from __future__ import annotations

from functools import lru_cache

from kivy.core.text import Label as CoreLabel


def _is_cjk(word: str) -> bool:
    return any(ord(ch) >= 0x2E80 for ch in word)


@lru_cache(maxsize=4096)
def _word_width(word: str, size: float, bold: bool) -> float:
    return CoreLabel(font_size=size, bold=bold).get_extents(word)[0]


def fitting_size(text: str, width: float, size: float, bold: bool = False, floor: float = 0.7) -> float:
    """``size``, or less where the longest non-CJK word of ``text`` is wider than ``width``."""
    if not text or width <= 1:
        return size
    words = [w for w in text.split() if not _is_cjk(w)]
    if not words:
        return size
    widest = max(_word_width(w, float(size), bool(bold)) for w in words)
    if widest <= width:
        return size
    return max(size * floor, size * width / widest * 0.97)


def fitting_line(text: str, width: float, size: float, bold: bool = False, floor: float = 0.6) -> float:
    """``size``, or less where ``text`` as one line is wider than ``width`` (a number, a
    reference: shrunk rather than wrapped mid-way), but not below ``floor`` of ``size``."""
    if not text or width <= 1:
        return size
    whole = _word_width(text, float(size), bool(bold))
    if whole <= width:
        return size
    return max(size * floor, size * width / whole * 0.97)
