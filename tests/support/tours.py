"""Named tours through the real offscreen window, one subprocess each, and their records."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from kiosk.sim.terminal import write_config

#: the size of a tour's window, and so of its screenshots
TOUR_WINDOW = (540, 960)
#: the window at half size with the same layout (``[ui] scale``: every size is in dp): a quarter
#: of the pixels for llvmpipe to rasterise, which is most of a tour's CPU time. What residents
#: see at full size is the screenshot tour's job (tests/ui/test_screenshots.py), not the tours'.
HALF_SIZE = {"width = 1080": f"width = {TOUR_WINDOW[0]}", "height = 1920": f"height = {TOUR_WINDOW[1]}",
             "scale = 1.0": f"scale = {TOUR_WINDOW[0] / 1080}"}


def run_tour(folder: Path, name: str, timeout: float = 300, *, args: Sequence[str] = (),
             full_size: bool = False, **replace: str) -> dict:
    """Run one named tour through the real offscreen window (``kiosk demo --headless``) in a
    subprocess — one Kivy window per process — against its own backend and data folder.
    ``args`` go to ``kiosk demo`` as they are; ``replace`` edits the shipped config's text
    (old=new), as ``write_config`` does. The window is ``HALF_SIZE`` unless ``full_size``.

    Returns ``proc`` (the finished process), ``out`` (screenshots and tour.json), ``result``
    (what tour.json says: ok, failure, steps with each screen's texts, facts) and ``data``
    (the terminal's data folder, where the reference backend keeps what it received)."""
    config = write_config(folder / "terminal", "http://127.0.0.1:0", **({} if full_size else HALF_SIZE), **replace)
    out = folder / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "demo", "--config", str(config), "--headless", "--tour", name,
         "--out", str(out), *args],
        capture_output=True, text=True, timeout=timeout,
    )
    result = json.loads((out / "tour.json").read_text()) if (out / "tour.json").exists() else {}
    return {"proc": proc, "out": out, "result": result, "data": folder / "terminal" / "var" / "demo"}


def step(tour: dict, name: str) -> dict:
    """The recorded step called ``name`` (its screen, texts and screenshot)."""
    return next(s for s in tour["result"]["steps"] if s["name"] == name)
