"""A layout audit of the screen on the window now: what a designer would mark in red.

``audit(root, elder=...)`` walks the widget tree of the real window and lists, in words:

* text that does not fit its box, or a box that sticks out of its parent (clipped on screen);
* a word or number broken in the middle ("20 / 26年", "Simulato / r");
* visible siblings in a laid-out row or column that overlap;
* buttons of one row with different heights;
* text under 18 dp in 大字版, touch targets under 60 dp;
* a disabled control drawn at less than 3:1 contrast;
* a bare band (no text, picture or control) taller than a quarter of the content area.

The screenshot tour runs it on every screen x {standard, 大字版} x {中文, English} and the UI
test fails on anything it finds, so the reviewed pictures are renewed only when it passes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from kivy.metrics import dp
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.image import Image
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView
from kivy.uix.screenmanager import ScreenManager
from kivy.uix.scrollview import ScrollView
from kivy.uix.stacklayout import StackLayout
from kivy.uix.widget import Widget

from kiosk.widgets.theme import relative_luminance

MIN_ELDER_TEXT_DP = 18
MIN_TARGET_DP = 60
MAX_BARE_SHARE = 0.25
MIN_DISABLED_CONTRAST = 3.0
SLACK = 2.0  # pixels of rounding every check forgives
_ALNUM = re.compile(r"[0-9A-Za-z]")


def _opacity(widget: Widget) -> float:
    value, w = 1.0, widget
    while w is not None:
        value *= getattr(w, "opacity", 1.0)
        if isinstance(w, ModalView) or w.parent is w:
            break
        w = w.parent
    return value


def _shown(widget: Widget) -> bool:
    return widget.width > 1 and widget.height > 1 and _opacity(widget) > 0.01 and not _clipped_away(widget)


def _clipped_away(widget: Widget) -> bool:
    """Inside a ScrollView but scrolled out of its view: not on screen."""
    w = widget.parent
    while w is not None and w.parent is not w:
        if isinstance(w, ScrollView):
            x0, y0, x1, y1 = _rect(widget)
            vx0, vy0, vx1, vy1 = _rect(w)
            return y1 <= vy0 or y0 >= vy1 or x1 <= vx0 or x0 >= vx1
        w = w.parent
    return False


def _in_scroll(widget: Widget) -> bool:
    w = widget.parent
    while w is not None and w.parent is not w:
        if isinstance(w, ScrollView):
            return True
        w = w.parent
    return False


def _rect(widget: Widget) -> tuple[float, float, float, float]:
    x0, y0 = widget.to_window(widget.x, widget.y)
    x1, y1 = widget.to_window(widget.right, widget.top)
    return x0, y0, x1, y1


def _name(widget: Widget) -> str:
    text = ""
    if isinstance(widget, Label):
        text = widget.text
    else:
        text = getattr(widget, "zh", "") or getattr(widget, "item_id", "")
    text = " ".join(str(text).split())
    return f"{type(widget).__name__}({text[:24]!r})" if text else type(widget).__name__


def _walk(root: Widget) -> Iterator[Widget]:
    yield root
    for child in reversed(root.children):
        yield from _walk(child)


# --- text ----------------------------------------------------------------------------------------


def _lines(label: Label) -> list[tuple[str, bool]]:
    """The rendered lines of a label: (text, ends its paragraph)."""
    core = getattr(label, "_label", None)
    out = []
    for line in getattr(core, "_cached_lines", None) or []:
        out.append(("".join(w.text for w in line.words), bool(getattr(line, "is_last_line", False))))
    return out


def broken_words(text: str, lines: list[tuple[str, bool]]) -> list[str]:
    """Places where wrapping cut a run of letters or digits: ["20|26年"]. Pure: ``lines`` are the
    label's rendered lines, ``text`` what it was given."""
    found = []
    pos = 0
    for i, (line, last) in enumerate(lines):
        stripped = line.strip()
        at = text.find(stripped, pos) if stripped else -1
        if at < 0:
            continue
        pos = at + len(stripped)
        if last or i + 1 >= len(lines):
            continue
        nxt = lines[i + 1][0].lstrip()
        if not stripped or not nxt:
            continue
        cut_inside = pos < len(text) and not text[pos].isspace()
        if cut_inside and _ALNUM.match(stripped[-1]) and _ALNUM.match(nxt[0]):
            found.append(f"{stripped[-6:]}|{nxt[:6]}")
    return found


def _text_problems(label: Label, elder: bool) -> Iterator[str]:
    if not label.text.strip():
        return
    tw, th = label.texture_size
    if tw > label.width + SLACK or th > label.height + SLACK:
        yield f"text does not fit its box: {_name(label)} needs {tw:.0f}x{th:.0f}, has {label.width:.0f}x{label.height:.0f}"
    for cut in broken_words(getattr(label, "source_text", "") or label.text, _lines(label)):
        yield f"a word broken in the middle: {_name(label)} at {cut!r}"
    if elder and label.font_size < dp(MIN_ELDER_TEXT_DP) - 0.5:
        yield f"text under {MIN_ELDER_TEXT_DP} dp in 大字版: {_name(label)} at {label.font_size / dp(1):.1f} dp"


# --- boxes ---------------------------------------------------------------------------------------


def _laid_out(parent: Widget) -> bool:
    return isinstance(parent, BoxLayout | GridLayout | StackLayout)


def _box_problems(widget: Widget) -> Iterator[str]:
    parent = widget.parent
    if parent is None or parent is widget or not _laid_out(parent) or _in_scroll(widget):
        return
    x0, y0, x1, y1 = _rect(widget)
    px0, py0, px1, py1 = _rect(parent)
    if x0 < px0 - SLACK or y0 < py0 - SLACK or x1 > px1 + SLACK or y1 > py1 + SLACK:
        yield f"sticks out of its parent: {_name(widget)} in {_name(parent)}"


def _sibling_problems(parent: Widget) -> Iterator[str]:
    if not _laid_out(parent):
        return
    kids = [c for c in reversed(parent.children) if _shown(c)]
    for i, a in enumerate(kids):
        ax0, ay0, ax1, ay1 = _rect(a)
        for b in kids[i + 1 :]:
            bx0, by0, bx1, by1 = _rect(b)
            if min(ax1, bx1) - max(ax0, bx0) > SLACK and min(ay1, by1) - max(ay0, by0) > SLACK:
                yield f"overlap: {_name(a)} and {_name(b)}"
    buttons = [c for c in kids if isinstance(c, ButtonBehavior)]
    horizontal = isinstance(parent, BoxLayout) and parent.orientation == "horizontal"
    if horizontal and len(buttons) > 1:
        heights = {round(b.height) for b in buttons}
        if max(heights) - min(heights) > SLACK:
            yield f"buttons of one row with different heights: {sorted(heights)} in {_name(parent)}"


def _target_problems(widget: Widget) -> Iterator[str]:
    if isinstance(widget, ButtonBehavior) and (widget.width < dp(MIN_TARGET_DP) - 0.5 or widget.height < dp(MIN_TARGET_DP) - 0.5):
        yield f"touch target under {MIN_TARGET_DP} dp: {_name(widget)} {widget.width / dp(1):.0f}x{widget.height / dp(1):.0f} dp"


def _contrast(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    la, lb = relative_luminance(a), relative_luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def _blend(fg: tuple[float, ...], bg: tuple[float, ...], alpha: float) -> tuple[float, float, float]:
    return tuple(f * alpha + g * (1 - alpha) for f, g in zip(fg[:3], bg[:3], strict=False))  # type: ignore[return-value]


def _disabled_problems(widget: Widget, background: tuple[float, ...]) -> Iterator[str]:
    if not isinstance(widget, ButtonBehavior) or getattr(widget, "enabled", True):
        return
    fill = getattr(widget, "fill_rgba", None)
    texts = [c for c in _walk(widget) if isinstance(c, Label) and c.text.strip() and c.font_size >= dp(18)]
    if fill is None or not texts:
        return
    alpha = _opacity(widget)
    drawn_fill = _blend(fill, background, alpha)
    worst = min(_contrast(_blend(t.color, drawn_fill, t.color[3] if len(t.color) > 3 else 1.0), drawn_fill) for t in texts)
    if worst < MIN_DISABLED_CONTRAST:
        yield f"disabled control under {MIN_DISABLED_CONTRAST}:1: {_name(widget)} at {worst:.2f}:1"


def _swallow_problems(roots: list[Widget]) -> Iterator[str]:
    """A hidden but disabled widget over a visible control: Kivy gives a disabled widget every
    touch in its area, so the control cannot be pressed."""
    hidden = [w for r in roots for w in _walk(r) if w.disabled and _opacity(w) <= 0.01 and w.width > 1 and w.height > 1
              and not (w.parent is not None and w.parent.disabled and _opacity(w.parent) <= 0.01)]
    controls = [w for r in roots for w in _walk(r) if isinstance(w, ButtonBehavior) and _shown(w) and not w.disabled]
    for h in hidden:
        hx0, hy0, hx1, hy1 = _rect(h)
        for c in controls:
            cx0, cy0, cx1, cy1 = _rect(c)
            if min(hx1, cx1) - max(hx0, cx0) > SLACK and min(hy1, cy1) - max(hy0, cy0) > SLACK:
                yield f"a hidden, disabled {_name(h)} lies over {_name(c)} and swallows its touches"
                break


# --- bare bands ----------------------------------------------------------------------------------


def _ink(widget: Widget) -> bool:
    """Something a resident sees: text, a picture, a control, a drawn figure."""
    if isinstance(widget, Label):
        return bool(widget.text.strip())
    if isinstance(widget, ButtonBehavior | Image):
        return True
    return getattr(widget, "draws_ink", False)


def bare_share(area: tuple[float, float, float, float], spans: list[tuple[float, float]]) -> tuple[float, float]:
    """The tallest vertical band of ``area`` (x0, y0, x1, y1) that no span covers, as a share of
    its height, and where it starts (from the top). Pure."""
    _x0, y0, _x1, y1 = area
    height = y1 - y0
    if height <= 0:
        return 0.0, 0.0
    covered = sorted((max(a, y0), min(b, y1)) for a, b in spans if b > y0 and a < y1)
    gaps, cursor = [], y0
    for a, b in covered:
        if a > cursor:
            gaps.append((cursor, a))
        cursor = max(cursor, b)
    gaps.append((cursor, y1))
    lo, hi = max(gaps, key=lambda g: g[1] - g[0])
    return (hi - lo) / height, (y1 - hi) / height


def _bare_problems(root: Widget, area: tuple[float, float, float, float]) -> Iterator[str]:
    spans = []
    for w in _walk(root):
        if _ink(w) and _shown(w):
            _x0, y0, _x1, y1 = _rect(w)
            if isinstance(w, Label) and w.texture_size[1] < w.height:
                # a label's text sits in its box by valign; count the text, not the box
                mid = (y0 + y1) / 2
                y0, y1 = mid - w.texture_size[1] / 2, mid + w.texture_size[1] / 2
            spans.append((y0, y1))
    share, at = bare_share(area, spans)
    if share > MAX_BARE_SHARE:
        yield f"a bare band {share:.0%} of the content height, {at:.0%} from the top"


# --- the audit -----------------------------------------------------------------------------------


def audit(window: Widget, *, elder: bool, background: tuple[float, ...] = (0.957, 0.965, 0.98, 1)) -> list[str]:
    """Every problem on the screen shown now (the current screen and any panel over it);
    ``window`` is the Kivy window (its children: the app's root and any open panel)."""
    roots = list(reversed(window.children))
    manager = next((w for r in roots for w in _walk(r) if isinstance(w, ScreenManager)), None)
    problems: list[str] = []
    for w in (w for r in roots for w in _walk(r)):
        if not _shown(w):
            continue
        if isinstance(w, Label):
            problems += _text_problems(w, elder)
        problems += _box_problems(w)
        problems += _sibling_problems(w)
        problems += _target_problems(w)
        problems += _disabled_problems(w, background)
    panel_open = any(isinstance(r, ModalView) for r in roots)
    if manager is not None and manager.current_screen is not None and not panel_open:
        problems += _bare_problems(manager.current_screen, _rect(manager))
    problems += _swallow_problems(roots)
    return sorted(set(problems))
