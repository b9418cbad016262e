"""Design tokens: colours, type sizes, spacing and touch targets, in one place.

Every screen and widget takes its sizes and colours from here (through ``app.theme`` in kv).
Colours are chosen for at least 4.5:1 contrast of text on its background (a test computes
it); state is never shown by colour alone (every state also has a word or an icon).
No kivy import here, so the tokens are testable anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass


def hex_rgba(value: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    value = value.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return (r, g, b, alpha)


#: colour tokens (hex) — government blue on white, dark text
COLOURS = {
    "background": "#F4F6FA",
    "surface": "#FFFFFF",
    "primary": "#0B4FA8",  # buttons: white text on it
    "primary_text": "#FFFFFF",
    "text": "#1A1F2B",
    "text_muted": "#4A5263",
    "header": "#0B3D80",
    "header_text": "#FFFFFF",
    "success": "#1E6B34",
    "warning": "#8A5200",
    "error": "#B3261E",
    "on_status": "#FFFFFF",  # text on success / warning / error fills
    "disabled": "#D5D9E0",
    "disabled_text": "#3D4452",
    "border": "#7A8499",
    "tile": "#FFFFFF",
}

#: pairs (foreground, background) that appear on screen; the contrast test checks them all
TEXT_PAIRS = [
    ("text", "background"),
    ("text", "surface"),
    ("text_muted", "surface"),
    ("text_muted", "background"),
    ("primary_text", "primary"),
    ("header_text", "header"),
    ("on_status", "success"),
    ("on_status", "warning"),
    ("on_status", "error"),
    ("disabled_text", "disabled"),
    ("primary", "surface"),
    ("error", "surface"),
    ("success", "surface"),
]


@dataclass(frozen=True)
class Sizes:
    """Type and target sizes in dp. Elder mode (大字版) scales them up."""

    body: float = 22
    small: float = 17
    heading: float = 34
    title: float = 42
    button: float = 26
    target: float = 72  # minimum touch target edge
    tile_height: float = 168
    pad: float = 18
    header_height: float = 110
    footer_height: float = 150
    tiles_per_page: int = 12
    tile_cols: int = 3


STANDARD = Sizes()
ELDER = Sizes(body=28, small=22, heading=40, title=50, button=32, target=96, tile_height=210,
              pad=22, header_height=120, footer_height=190, tiles_per_page=6, tile_cols=2)


def relative_luminance(rgb: tuple[float, float, float, float] | tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(fg: str, bg: str) -> float:
    la, lb = relative_luminance(hex_rgba(fg)), relative_luminance(hex_rgba(bg))
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)
