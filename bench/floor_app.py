"""The floor: the least a Kivy app can do on this machine to answer a tap.

A minimal app with the kiosk's window (1080x1920, offscreen SDL when there is no display,
multisampling off: ``kiosk.kivy_setup.configure_kivy`` itself) and its CJK font, showing a
home page of 12 Chinese tiles and a second page it switches to on a real touch event, and back.
``bench_floor`` runs it beside the kiosk and prints the kiosk's figures as ratios to it.

    python -m bench.floor_app touch TAPS OUT.json   # tap released -> other page drawn (glFinish)
    python -m bench.floor_app start                 # prints FLOOR_FIRST_FRAME <time.time()> <RSS KiB>
"""

from __future__ import annotations

import gc
import json
import sys
import tempfile
import time
from pathlib import Path

WIDTH, HEIGHT = 1080, 1920  # kiosk.config's UiConfig defaults, the kiosk's window
#: the 12 tiles: what a 政务 home page shows (Chinese first, English second)
TILES = (("社保缴费证明", "Contribution certificate"), ("参保信息查询", "Insurance record"),
         ("养老金发放查询", "Pension payments"), ("医保账户查询", "Medical account"),
         ("城乡居民养老缴费", "Resident pension"), ("医保缴费", "Medical insurance"),
         ("水电燃气缴费", "Utility bills"), ("社保卡挂失", "Report card lost"),
         ("社保卡状态", "Card status"), ("办件进度查询", "Application progress"),
         ("帮办代办", "Assisted service"), ("政务服务地图", "Service map"))
SETTLE_S = 0.15  # as bench_touch: the new page's first layout pass has run before the next tap
HOLD_S = 0.06  # finger down -> lifted, as bench_touch


def _build():
    from kivy.core.text import LabelBase
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.button import Button
    from kivy.uix.gridlayout import GridLayout
    from kivy.uix.label import Label
    from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager

    from kiosk.fonts import cjk_font_path

    LabelBase.register(name="Roboto", fn_regular=str(cjk_font_path()))
    sm = ScreenManager(transition=NoTransition())
    home = Screen(name="home")
    page = BoxLayout(orientation="vertical", padding=18, spacing=18)
    page.add_widget(Label(text="政务服务自助终端\nGovernment self-service terminal", font_size=34,
                          halign="center", size_hint_y=None, height=160))
    grid = GridLayout(cols=3, spacing=18)
    for zh, en in TILES:
        grid.add_widget(Button(text=f"{zh}\n{en}", font_size=26, halign="center"))
    page.add_widget(grid)
    home.add_widget(page)
    guide = Screen(name="guide")
    body = BoxLayout(orientation="vertical", padding=18, spacing=18)
    body.add_widget(Label(text="社保缴费证明\nContribution certificate", font_size=42, halign="center"))
    body.add_widget(Label(text="请将身份证放在读卡区\nPlease place your ID card on the reader", font_size=26,
                          halign="center"))
    back = Button(text="返回首页\nHome", font_size=26, halign="center", size_hint_y=None, height=150)
    body.add_widget(back)
    guide.add_widget(body)
    sm.add_widget(home)
    sm.add_widget(guide)
    for tile in grid.children:
        tile.bind(on_release=lambda *_: setattr(sm, "current", "guide"))
    back.bind(on_release=lambda *_: setattr(sm, "current", "home"))
    return sm, grid.children[-1], back


def run(mode: str, taps: int = 0, out: str = "") -> int:
    from kiosk.kivy_setup import configure_kivy

    configure_kivy(width=WIDTH, height=HEIGHT, fullscreen=False, headless=True,
                   home=Path(tempfile.gettempdir()) / "bench-floor-kivy")
    from kivy.app import App
    from kivy.base import EventLoop
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.graphics.opengl import glFinish

    results: dict[str, list[float]] = {"tap -> other page (first visit)": [], "tap -> other page": [],
                                       "full GC pause": []}
    pending: dict = {}
    seen: set[str] = set()

    class Floor(App):
        def build(self):
            self.sm, self.tile, self.back = _build()
            return self.sm

        def on_start(self):
            Window.bind(on_flip=self.first_frame)

        def first_frame(self, *_args):
            glFinish()
            at = time.time()
            Window.unbind(on_flip=self.first_frame)
            if mode == "start":
                print(f"FLOOR_FIRST_FRAME {at:.6f} {_rss_kib()}", flush=True)
                self.stop()
                return
            Clock.schedule_once(self.redrawn, 0.3)

        def redrawn(self, _dt):
            from bench.windowed import REDRAWN, redraw_times

            results[REDRAWN] = redraw_times(5)
            Window.bind(on_flip=self.flipped)
            gc.callbacks.append(self.on_gc)
            Clock.schedule_once(lambda _dt: self.tap(), 0.3)

        def on_gc(self, phase: str, info: dict) -> None:
            if info["generation"] == 2 and phase == "start":
                pending["gc"] = time.perf_counter()
            elif info["generation"] == 2 and "gc" in pending:
                results["full GC pause"].append(time.perf_counter() - pending.pop("gc"))

        def flipped(self, *_args):
            if "t" in pending and self.sm.current == pending["screen"]:
                glFinish()
                first = pending["screen"] not in seen
                seen.add(pending["screen"])
                results["tap -> other page" + (" (first visit)" if first else "")].append(
                    time.perf_counter() - pending.pop("t"))
                if sum(len(v) for k, v in results.items() if k.startswith("tap")) >= taps:
                    Path(out).write_text(json.dumps(results))
                    self.stop()
                else:
                    Clock.schedule_once(lambda _dt: self.tap(), SETTLE_S)

        def tap(self):
            from kiosk.tours.engine import TourTouch

            widget, target = (self.tile, "guide") if self.sm.current == "home" else (self.back, "home")
            touch = TourTouch(*widget.to_window(*widget.center))
            EventLoop.post_dispatch_input("begin", touch)

            def lift(_dt):
                pending.update(screen=target, t=time.perf_counter())
                EventLoop.post_dispatch_input("end", touch)

            Clock.schedule_once(lift, HOLD_S)

    seen.add("home")
    Floor().run()
    return 0


def _rss_kib() -> int:
    with open("/proc/self/status") as f:
        return next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)


if __name__ == "__main__":
    if sys.argv[1] == "touch":
        sys.exit(run("touch", int(sys.argv[2]), sys.argv[3]))
    sys.exit(run("start"))
