"""What the benches that drive the real window share: a kiosk process of its own (offscreen,
one Kivy window per process) against a reference backend on loopback, whose script writes
its figures to a JSON file; and the percentile they report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


#: a figure both the floor and the kiosk report: the home page drawn again with nothing changed
#: (``Window`` drawn and the frame rasterised, glFinish): what every tap pays for the picture itself
REDRAWN = "home redrawn, nothing changed (draw + raster)"


def redraw_times(n: int) -> list[float]:
    """Draw the window ``n`` times as it is, each timed to the end of its rasterisation."""
    import time

    from kivy.core.window import Window
    from kivy.graphics.opengl import glFinish

    times = []
    for _ in range(n):
        glFinish()
        started = time.perf_counter()
        Window.canvas.ask_update()
        Window.dispatch("on_draw")
        Window.flip()
        glFinish()
        times.append(time.perf_counter() - started)
    return times


def run_child(module: str, sessions: int, timeout_s: float, *, args: tuple[str, ...] = (),
              **config_lines: str) -> dict[str, list[float]]:
    """Run ``python -m module --child CONFIG --sessions N --out JSON [ARGS]`` against a fresh
    reference backend and return its ``results``; ``config_lines`` replace lines of the
    terminal's config (as ``kiosk.sim.terminal.write_config`` does). Exits with the child's own
    words on failure."""
    from kiosk.sim.backend.server import ReferenceBackend
    from kiosk.sim.terminal import TERMINALS, write_config

    name = module.rsplit(".", 1)[-1]
    folder = Path(tempfile.mkdtemp(prefix=f"{name.replace('_', '-')}-", dir=os.environ.get("TMPDIR")))
    backend = ReferenceBackend(folder / "backend", TERMINALS)
    url = backend.start("127.0.0.1", 0)
    config = write_config(folder / "terminal", url, **config_lines)
    out = folder / f"{name}.json"
    env = dict(os.environ)
    env.pop("DISPLAY", None)  # offscreen
    try:
        proc = subprocess.run([sys.executable, "-m", module, "--child", str(config), "--sessions", str(sessions),
                               "--out", str(out), *args], capture_output=True, text=True, timeout=timeout_s, env=env)
    finally:
        backend.close()
    if not out.exists():
        raise SystemExit(f"{name}: the app reported nothing:\n{proc.stderr[-3000:]}")
    data = json.loads(out.read_text())
    if data["code"] != 0:
        tour = json.loads((folder / "tour" / "tour.json").read_text())
        raise SystemExit(f"{name}: the tour failed: {tour.get('failure')}")
    return data["results"]


def child_app(config_path: str, out: str, tour, results: dict[str, list[float]]) -> int:
    """The child's side: the kiosk from ``config_path`` in an offscreen window, driven by
    ``tour`` (which fills ``results``); its exit code and the figures go to ``out``."""
    from kiosk.commands.run import start_app
    from kiosk.config import load_config

    code = start_app(load_config(config_path), fullscreen=False, headless=True, tour=tour,
                     out_dir=Path(out).parent / "tour")
    Path(out).write_text(json.dumps({"code": code, "results": results}))
    return code
