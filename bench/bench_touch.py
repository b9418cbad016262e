"""Touch -> next screen drawn, and card placed -> the resident's record on screen, in the real window.

A new process runs the kiosk offscreen (llvmpipe) against a reference backend on loopback with
simulated devices, and walks 个人参保缴费证明查询打印 ``--sessions`` times with real touch
events posted into Kivy's input queue. For each tap that changes the screen the clock starts
when the finger is lifted (buttons act on release) and stops at the first frame drawn on the new
screen, after ``glFinish``: offscreen, the buffer swap returns before the frame is rasterised.
At home, each session also switches 大字版 on and off and English and back (the first frame
showing the switch). The first session's taps are reported apart: a screen's first visit.
Every full garbage collection during the sessions is timed too: the UI stands still for it;
the ones the kiosk runs itself at a visit's end, once home is drawn, are reported apart.

With ``--built-ahead`` the sessions start only once the kiosk, left alone at home, has built
every screen ahead and settled its heap (what a terminal does in its first idle minute): the
"first visit" figures are then first visits of screens built while idle.

    .venv/bin/python -m bench.bench_touch [--sessions 10] [--built-ahead]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.windowed import REDRAWN, child_app, percentile, redraw_times, run_child  # noqa: E402 - after the path above

#: what is measured, in the order of a session; each also " (first visit)": the first session's
#: tap shows a screen (or 大字版, English) for the first time in the process
FIGURES = ("大字版 on", "大字版 off", "中文 -> English", "English -> 中文", "tile -> guide", "start -> identify",
           "card placed -> record shown", "done -> rating", "rating -> farewell")
FIRST = " (first visit)"
#: every full (generation 2) garbage collection during the sessions: the UI stands still for it
GC_FIGURE = "full GC pause during sessions"
#: the ones the kiosk runs itself once a visit is over and home is drawn (``kiosk.heap``)
GC_END_FIGURE = "full GC pause at a visit's end"


def _in_visit_end() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_name == "visit_over":
            return True
        frame = frame.f_back
    return False


def _script(sessions: int, results: dict[str, list[float]], built_ahead: bool = False):
    def script(tour):
        from kivy.base import EventLoop
        from kivy.clock import Clock
        from kivy.core.window import Window
        from kivy.graphics.opengl import glFinish

        from kiosk.tours.engine import TourTouch, Wait, leave, open_item
        from kiosk.tours.soak_sessions import SETTLE_S

        kiosk = tour.app.kiosk
        idcard = kiosk.hub.emulator("idcard")
        item = next(i for i in kiosk.catalogue.items if i.flow == "contribution_certificate")
        pending: dict = {}

        seen: set[str] = set()

        def shown() -> bool:  # the change the tap asked for is in the frame being flipped
            return tour.screen_name() == pending["screen"] and pending.get("done", lambda: True)()

        def on_flip(*_args):
            if pending.get("t") and shown():
                glFinish()
                what = pending["what"]
                results[what + ("" if what in seen else FIRST)].append(time.perf_counter() - pending["t"])
                seen.add(what)
                pending.clear()

        Window.bind(on_flip=on_flip)

        def tap_to(widget, screen: str, what: str, done=None) -> Wait:
            x, y = widget.to_window(*widget.center)
            touch = TourTouch(x, y)
            EventLoop.post_dispatch_input("begin", touch)

            def lift(_dt):
                pending.update(screen=screen, what=what, t=time.perf_counter(), **({"done": done} if done else {}))
                EventLoop.post_dispatch_input("end", touch)

            Clock.schedule_once(lift, 0.06)
            return Wait(lambda: not pending and tour.screen_name() == screen, screen, 20)

        def switches():
            """大字版 on and off, English and back, at home: every label of the window changes."""
            for what, button, done in (
                    ("大字版 on", "elder_button", lambda: tour.app.theme.elder),
                    ("大字版 off", "elder_button", lambda: not tour.app.theme.elder),
                    ("中文 -> English", "lang_button", lambda: tour.app.lang == "en"),
                    ("English -> 中文", "lang_button", lambda: tour.app.lang == "zh")):
                yield SETTLE_S
                yield tap_to(tour.app.root.ids[button], "home", what, done)

        def place(resident: str) -> None:
            pending.update(screen="record", what="card placed -> record shown", t=time.perf_counter())
            idcard.place(resident)

        yield tour.until_screen("home", 30)
        yield Wait(lambda: kiosk.hub.unavailable_reason(["idcard", "printer"]) is None, "the devices", 30)
        if built_ahead:
            app = tour.app
            yield Wait(lambda: app.all_built and not app.heap.pending, "every screen built ahead, then settled", 180)
        started: dict[str, float] = {}

        def on_gc(phase: str, info: dict) -> None:
            if info["generation"] == 2 and phase == "start":
                started["t"] = time.perf_counter()
            elif info["generation"] == 2 and "t" in started:
                figure = GC_END_FIGURE if _in_visit_end() else GC_FIGURE
                results[figure].append(time.perf_counter() - started.pop("t"))

        gc.callbacks.append(on_gc)
        for _n in range(sessions):
            yield SETTLE_S
            results[REDRAWN].extend(redraw_times(3))
            yield from switches()
            yield SETTLE_S
            tiles = [w for w in tour.screen().ids.tiles.children if getattr(w, "item_id", "") == item.id]
            if tiles:  # home shows the item's category: the tile tap is timed
                yield tap_to(tiles[0], "guide", "tile -> guide")
            else:  # its category first, or paging to it (not timed)
                yield from open_item(tour, item_id=item.id)
                seen.add("tile -> guide")
            yield SETTLE_S
            yield tap_to(tour.by_id("start_button"), "identify", "start -> identify")
            yield SETTLE_S
            yield tour.run_off_thread(lambda: place("wang_jianguo"), "placing the card")
            yield Wait(lambda: not pending and tour.screen_name() == "record", "record", 20)
            yield Wait(lambda: tour.screen().loaded, "the record", 15)
            yield SETTLE_S
            tour.tap(tour.by_id("print_button"))
            yield tour.until_screen("result", 20)
            yield SETTLE_S
            yield tap_to(tour.by_id("done_button"), "rating", "done -> rating")
            yield SETTLE_S
            yield tap_to(tour.button("满意"), "farewell", "rating -> farewell")
            yield from leave(tour)

    return script


def child(config_path: str, sessions: int, out: str, built_ahead: bool = False) -> int:
    results: dict[str, list[float]] = {name + first: [] for name in FIGURES for first in (FIRST, "")}
    results[GC_FIGURE] = []
    results[REDRAWN] = []
    results[GC_END_FIGURE] = []
    return child_app(config_path, out, _script(sessions, results, built_ahead), results)


def measure(sessions: int, built_ahead: bool = False) -> dict[str, list[float]]:
    return run_child("bench.bench_touch", sessions, 60 + 30 * sessions + (180 if built_ahead else 0),
                     args=("--built-ahead",) if built_ahead else ())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--built-ahead", action="store_true", help="start once every screen is built while idle")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(args.child, args.sessions, args.out, args.built_ahead)
    results = measure(args.sessions, args.built_ahead)
    print(f"touch -> next screen drawn (glFinish), {args.sessions} sessions, offscreen llvmpipe")
    print(f"{'figure':<30} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, values in results.items():
        if values:
            ms = [v * 1000 for v in values]
            print(f"{name:<30} {len(ms):>4} {statistics.median(ms):>8.1f} {percentile(ms, 0.95):>8.1f} {max(ms):>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
