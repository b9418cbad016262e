"""Scripted tours through the real window: real touch events, screenshots, what was on screen.

A tour is a generator of steps run on the Kivy clock. It taps widgets by posting touch
events into Kivy's input queue (the same path a touchscreen takes), waits for the journey
to move, and records each screen's visible text and a screenshot. ``kiosk demo --headless``
runs the demo tour for reviewers; the UI tests run tours and assert on the record.

Each screenshot is also one line of progress on stdout, so whoever runs a tour sees it go:
``✓ 03 identify            (0.8 s)``, the time being since the step before; a failure ends it
with ``✗`` and the reason.
"""

from __future__ import annotations

import itertools
import json
import logging
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kivy.base import EventLoop
from kivy.clock import Clock
from kivy.input.motionevent import MotionEvent
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from kiosk.widgets.icons import FONT_NAME as ICON_FONT_NAME

log = logging.getLogger(__name__)

_touch_ids = itertools.count(1000)


class TourTouch(MotionEvent):
    """A finger at window coordinates (x, y), delivered through Kivy's input queue."""

    def __init__(self, x: float, y: float) -> None:
        win = EventLoop.window
        super().__init__("tour", next(_touch_ids), {"x": x / (win.width - 1.0), "y": y / (win.height - 1.0)},
                         is_touch=True, type_id="touch")

    def depack(self, args: dict) -> None:
        self.sx, self.sy = args["x"], args["y"]
        self.profile = ["pos"]
        super().depack(args)


class TourFailed(AssertionError):
    pass


class _LayoutLoops(logging.Handler):
    """Counts Kivy's 'too much iteration done before the next frame': a layout feeding itself."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "too much iteration" in record.getMessage():
            self.count += 1


@dataclass
class Wait:
    """Yielded by a tour step: wait until ``condition()`` is true (or fail after ``timeout``)."""

    condition: Callable[[], bool]
    what: str
    timeout: float = 10.0


@dataclass
class Tour:
    app: Any  # kiosk.app.KioskApp
    out_dir: Path
    script: Callable[[Tour], Iterator[Any]]
    #: what the caller asks of the tour (e.g. ``admin_pin``: the PIN the technician types)
    options: dict[str, Any] = field(default_factory=dict)
    record: list[dict] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    failure: str = ""
    _gen: Iterator[Any] | None = None
    _shots: int = 0
    _taps: list[Widget] = field(default_factory=list)
    _since: float = field(default_factory=time.monotonic)  # when the last step ended
    #: frames the window has drawn since the tour began (Clock.frames_displayed counts ticks,
    #: drawn or not; this counts the frames actually rasterised and shown)
    frames_drawn: int = 0

    # --- running ----------------------------------------------------------------------------

    def start(self, delay: float = 0.5) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._since = time.monotonic()
        EventLoop.window.fbind("on_flip", self._count_frame)
        self._loops = _LayoutLoops()
        logging.getLogger("kivy").addHandler(self._loops)
        self._gen = self.script(self)
        Clock.schedule_once(lambda _dt: self._advance(None), delay)

    def _count_frame(self, *_args: Any) -> None:
        self.frames_drawn += 1

    def _advance(self, _value: Any) -> None:
        assert self._gen is not None
        try:
            step = next(self._gen)
        except StopIteration:
            self._finish()
            return
        except Exception as e:  # noqa: BLE001 - a failed tour is reported, then the app stops
            log.exception("tour failed")
            self.failure = f"{type(e).__name__}: {e}"
            self._progress("✗", f"{self._shots + 1:02d} {self.failure}")
            self._finish()
            return
        if isinstance(step, Wait):
            self._wait(step, time.monotonic() + step.timeout)
        else:
            # a pause: at least this long, and until the taps made before it have landed
            Clock.schedule_once(lambda _dt: self._wait(Wait(lambda: True, "taps to land"), time.monotonic() + 10),
                                float(step or 0))

    def _wait(self, wait: Wait, deadline: float) -> None:
        try:
            done = not self._taps and wait.condition()
        except Exception:  # noqa: BLE001 - a condition reading a half-built screen: try again
            done = False
        if done:
            Clock.schedule_once(self._advance, 0.05)
        elif time.monotonic() > deadline:
            self.failure = f"timed out waiting for {wait.what} (screen {self.screen_name()})"
            self.shot("failure")
            self._progress("✗", self.failure)
            self._finish()
        else:
            Clock.schedule_once(lambda _dt: self._wait(wait, deadline), 0.05)

    def _finish(self) -> None:
        logging.getLogger("kivy").removeHandler(self._loops)
        if self._loops.count and not self.failure:
            # a layout that never settles (a height computed from itself) is a bug, even when
            # the screens look right: Kivy gives up on the frame each time
            self.failure = f"a layout did not settle: Kivy's clock gave up {self._loops.count} time(s)"
            self._progress("✗", self.failure)
        self.facts["layout_loops"] = self._loops.count
        result = {"ok": not self.failure, "failure": self.failure, "steps": self.record, "facts": self.facts}
        (self.out_dir / "tour.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))
        self.app.stop()

    # --- what a step can do -----------------------------------------------------------------

    def screen_name(self) -> str:
        return self.app.navigator.current if self.app.navigator else ""

    def screen(self) -> Widget:
        return self.app.navigator.manager.current_screen

    def until_screen(self, name: str, timeout: float = 10.0) -> Wait:
        return Wait(lambda: self.screen_name() == name, f"screen {name}", timeout)

    def tap(self, widget: Widget) -> None:
        """Touch the centre of a widget, down then up a moment later, as a finger would.

        Taps are delivered in order, each once its widget has been laid out: a button built
        this frame still sits at (0, 0), and a touch aimed there would land on whatever is in
        that corner. Where the finger goes is worked out when the touch is delivered."""
        if widget is None:
            raise TourFailed("nothing to tap")
        self._taps.append(widget)
        if len(self._taps) == 1:
            Clock.schedule_once(lambda _dt: self._deliver_tap(time.monotonic() + 3.0), 0)

    def _deliver_tap(self, deadline: float) -> None:
        widget = self._taps[0]
        placed = widget.get_root_window() is not None and (widget.x, widget.y) != (0, 0)
        if not placed and time.monotonic() < deadline:
            Clock.schedule_once(lambda _dt: self._deliver_tap(deadline), 0.05)
            return
        if _scrolled_into_view(widget):  # as a finger would scroll first: tap on the next frame
            Clock.schedule_once(lambda _dt: self._deliver_tap(deadline), 0.1)
            return
        x, y = widget.to_window(*widget.center)
        touch = TourTouch(x, y)
        EventLoop.post_dispatch_input("begin", touch)

        def release(_dt: float) -> None:
            EventLoop.post_dispatch_input("end", touch)
            self._taps.pop(0)
            if self._taps:
                Clock.schedule_once(lambda _dt: self._deliver_tap(time.monotonic() + 3.0), 0.05)

        Clock.schedule_once(release, 0.06)

    @property
    def tapping(self) -> bool:
        """True while taps are still on their way."""
        return bool(self._taps)

    def find(self, predicate: Callable[[Widget], bool], root: Widget | None = None) -> Widget:
        """The first visible widget that matches, topmost first (open popups before the screen)."""
        roots = [root] if root is not None else list(EventLoop.window.children)
        for top in roots:
            for widget in top.walk(restrict=True):
                if predicate(widget) and _visible(widget):
                    return widget
        raise TourFailed(f"no widget matches on screen {self.screen_name()}")

    def by_id(self, name: str) -> Widget:
        screen = self.screen()
        widget = screen.ids.get(name) or self.app.root.ids.get(name)
        if widget is None:
            raise TourFailed(f"no widget id {name!r} on screen {self.screen_name()}")
        return widget

    def button(self, zh: str) -> Widget:
        return self.find(lambda w: getattr(w, "zh", None) == zh and hasattr(w, "trigger_action"))

    def texts(self) -> list[str]:
        """Every visible label text on screen (chrome and current screen)."""
        seen = []
        screen = self.screen()
        for root in reversed(EventLoop.window.children):  # the app, then any open popup
            for widget in root.walk(restrict=True):
                if isinstance(widget, Label) and widget.text and _visible(widget):
                    if widget.font_name == ICON_FONT_NAME:  # a pictogram, not words
                        continue
                    if _inside_manager(widget) and not _under(widget, screen):
                        continue
                    # the text as written, not as laid out in lines (kiosk.widgets.wrap)
                    seen.append(getattr(widget, "source_text", "") or widget.text)
        return seen

    def shot(self, name: str) -> Path:
        """Screenshot of the whole window, recorded with the screen's visible text."""
        self._shots += 1
        path = self.out_dir / f"{self._shots:02d}-{name}.png"
        window_picture(path, self.options.get("shot_size"))
        self.record.append({"name": name, "screen": self.screen_name(), "png": path.name, "texts": self.texts(),
                            "window": list(EventLoop.window.size)})
        if name != "failure":
            now = time.monotonic()
            self._progress("✓", f"{self._shots:02d} {name:<18} ({now - self._since:.1f} s)")
            self._since = now
        return path

    def _progress(self, mark: str, text: str) -> None:
        print(f"{mark} {text}", file=sys.stdout, flush=True)

    def run_off_thread(self, fn: Callable[[], Any], what: str, timeout: float = 15.0) -> Wait:
        """Run blocking work (an emulator action, a delivery flush) without freezing the UI."""
        box: dict[str, Any] = {}

        def work() -> Any:
            box["value"] = fn()
            return box["value"]

        self.app.worker.submit(work, lambda _v: box.setdefault("done", True),
                               lambda e: box.setdefault("error", str(e)))
        return Wait(lambda: "done" in box or "error" in box, what, timeout)


# --- steps many tours share ---------------------------------------------------------------


def window_picture(path: Path, size: tuple[int, int] | None = None) -> None:
    """The window's own pixels (the last frame drawn, popups on top of the app included) as a
    PNG, scaled to ``size`` if given. Written quickly (zlib level 1): a tour's pictures are looked
    at and compared, and ``kiosk screenshots`` stores its own copies. Kivy's ``Window.screenshot``
    writes at the library's default level (a 1080x1920 screen at zlib's level 6: ~80 ms of CPU
    in Pillow), and the screenshot command then decoded and scaled it (~70 ms more)."""
    from kivy.graphics.opengl import GL_RGB, GL_UNSIGNED_BYTE, glReadPixels
    from PIL import Image

    width, height = EventLoop.window.size
    data = glReadPixels(0, 0, width, height, GL_RGB, GL_UNSIGNED_BYTE)
    # rows bottom-up from GL (orientation -1), each padded to GL's pack alignment
    image = Image.frombytes("RGB", (width, height), data, "raw", "RGB", len(data) // height, -1)
    if size is not None and image.size != tuple(size):
        image = image.resize(tuple(size), Image.Resampling.LANCZOS)
    image.save(path, compress_level=1)


def tap_placed(tour: Tour, predicate: Callable[[Widget], bool], what: str) -> Iterator[Any]:
    """Tap a widget once layout has placed it, looking it up again just before the tap: a
    freshly built button sits at (0, 0) until the next layout pass, and one looked up before a
    rebuild is no longer on screen."""

    def placed() -> bool:
        w = tour.find(predicate)
        return w.x > 0 and w.y > 0 and w.width > 0

    yield Wait(placed, f"{what} to be laid out")
    yield 0.1
    tour.tap(tour.find(predicate))
    yield 0.3


def rate(tour: Tour, level: str = "满意", reason: str | None = None) -> Iterator[Any]:
    """On the rating screen: tap a face (one tap sends 非常满意 / 满意 / 基本满意); 不满意 and
    非常不满意 also take a reason (the first, or the one named) and 提交评价."""
    yield from tap_placed(tour, lambda w: getattr(w, "zh", None) == level and hasattr(w, "level"), level)
    if tour.screen_name() == "rating" and tour.screen().needs_reason:
        yield from tap_placed(tour, lambda w: hasattr(w, "code") and (reason is None or w.label == reason), "a reason")
        tour.tap(tour.by_id("submit_button"))
        yield 0.3


def leave(tour: Tour, shot: str | None = None) -> Iterator[Any]:
    """The end of a visit as a resident leaves: the farewell screen (photographed as ``shot``),
    every card taken out of its reader, 返回首页, home."""
    kiosk = tour.app.kiosk
    yield tour.until_screen("farewell", 15)
    yield 0.3
    if shot:
        tour.shot(shot)
    tour.facts.setdefault("farewells", []).append(
        {"reason": kiosk.journey.farewell.reason, "cards": list(kiosk.journey.farewell.cards),
         "papers": list(kiosk.journey.farewell.papers)} if kiosk.journey.farewell else {})
    yield from take_cards(tour)
    yield Wait(lambda: kiosk.journey.farewell is None or not kiosk.journey.farewell.cards, "the cards to be taken")
    if tour.screen_name() == "farewell":
        tour.tap(tour.app.root.ids.home_button)
    yield tour.until_screen("home")


def take_cards(tour: Tour) -> Iterator[Any]:
    """Take every emulated card out of its reader (the ID card off the pad, the 社保卡 out)."""
    kiosk = tour.app.kiosk
    idcard, sscard = kiosk.hub.emulator("idcard"), kiosk.hub.emulator("sscard")
    if idcard is not None and idcard.placed is not None:
        yield tour.run_off_thread(idcard.remove, "taking the ID card away")
    if sscard is not None and sscard.card is not None:
        yield tour.run_off_thread(sscard.remove, "taking the social security card out")


def open_item(tour: Tour, flow: str | None = None, *, item_id: str | None = None) -> Iterator[Any]:
    """From home to an item's guide (named by its flow or its id): its category, paging on to
    its tile, the tile. The category is tapped only when it is not shown or the tile is on an
    earlier page, and the tile is looked for after the tap's rebuild, never under the finger."""
    catalogue = tour.app.kiosk.catalogue
    item = catalogue.by_id(item_id) if item_id else next((i for i in catalogue.items if i.flow == flow), None)
    if item is None:
        raise TourFailed(f"the catalogue has no item with flow {flow}")

    def tile_shown() -> bool:
        return any(getattr(w, "item_id", "") == item.id for w in tour.screen().ids.tiles.children)

    yield tour.until_screen("home")
    yield 0.2
    cat = item.category
    if tour.screen().category != cat.value or not tile_shown():
        tour.tap(tour.find(lambda w: getattr(w, "zh", None) == cat.label_zh and hasattr(w, "kind")))
        yield Wait(lambda: tour.screen().category == cat.value and tour.screen().page == 0, f"category {cat.value}")
        yield 0.3  # the tap's release rebuilds the tiles: look for the tile after that
    while not tile_shown():
        if tour.screen().page >= tour.screen().pages - 1:
            raise TourFailed(f"no tile for {item.id} in category {cat.value}")
        tour.tap(tour.screen().ids.pager.ids.next_page)
        yield 0.3
    yield from tap_placed(tour, lambda w: getattr(w, "item_id", "") == item.id and hasattr(w, "trigger_action"), item.id)
    yield tour.until_screen("guide")


def _scrolled_into_view(widget: Widget) -> bool:
    """Scroll the ScrollView holding ``widget`` so that all of it shows; True if it moved."""
    from kivy.uix.scrollview import ScrollView

    view = widget.parent
    while view is not None and view.parent is not view and not isinstance(view, ScrollView):
        view = view.parent
    if not isinstance(view, ScrollView):
        return False
    x0, y0 = widget.to_window(widget.x, widget.y)
    x1, y1 = widget.to_window(widget.right, widget.top)
    vx0, vy0 = view.to_window(view.x, view.y)
    vx1, vy1 = view.to_window(view.right, view.top)
    if y0 >= vy0 - 1 and y1 <= vy1 + 1:
        return False
    view.scroll_to(widget, padding=10, animate=False)
    return True


def _visible(widget: Widget) -> bool:
    w = widget
    while w is not None:
        if getattr(w, "opacity", 1) == 0:
            return False
        w = w.parent if w.parent is not w else None
    return True


def _under(widget: Widget, ancestor: Widget) -> bool:
    w = widget
    while w is not None:
        if w is ancestor:
            return True
        w = w.parent if w.parent is not w else None
    return False


def _inside_manager(widget: Widget) -> bool:
    from kivy.uix.screenmanager import ScreenManager

    w = widget.parent
    while w is not None:
        if isinstance(w, ScreenManager):
            return True
        w = w.parent if w.parent is not w else None
    return False
