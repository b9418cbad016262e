"""Line breaking of every guide text (``kiosk.widgets.wrap.lines``), as a guide's first visit
and a 大字版 switch pay it, against the floor of any wrap: measuring each text's characters once.

Every glyph's width is measured before timing (both sides read the same kept widths), so the
figure is the wrap's own work. Printed, never asserted:

    .venv/bin/python -m bench.bench_wrap [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SIZES = (28.0, 36.0)  # the body text, standard and 大字版, in pixels
WIDTH = 900.0  # a guide section's width on the 1080-pixel panel


def texts() -> list[str]:
    from kiosk.services.catalogue import load_catalogue

    out = []
    for item in load_catalogue(ROOT / "config" / "services.toml").items:
        for lang in ("zh", "en"):
            for _name, _head, body in item.guide.sections(lang):
                out.append(body if isinstance(body, str) else "\n".join(body))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    from kiosk.kivy_setup import configure_kivy

    configure_kivy(width=1080, height=1920, fullscreen=False, headless=True,
                   home=Path(os.environ.get("TMPDIR", "/tmp")) / "bench-wrap-kivy")
    from kivy.core.text import LabelBase

    from kiosk.fonts import cjk_font_path
    from kiosk.widgets import wrap

    LabelBase.register(name="Roboto", fn_regular=str(cjk_font_path()))
    corpus = texts()
    for size in SIZES:
        for text in corpus:
            for ch in text:
                wrap._width(ch, size, False, "Roboto")

    def floor() -> None:
        for size in SIZES:
            for text in corpus:
                sum(wrap._width(ch, size, False, "Roboto") for ch in text)

    def wrapped() -> None:
        for size in SIZES:
            for text in corpus:
                wrap.lines.__wrapped__(text, WIDTH, size)  # not the kept answers: the work itself

    figures: dict[str, list[float]] = {"measure each text once (floor)": [], "lines() of each text": []}
    for _ in range(args.rounds):
        for name, fn in zip(figures, (floor, wrapped), strict=True):
            started = time.perf_counter()
            fn()
            figures[name].append(time.perf_counter() - started)
    base = statistics.median(figures["measure each text once (floor)"])
    print(f"{len(corpus)} guide texts x {len(SIZES)} sizes, width {WIDTH:g} px, {args.rounds} rounds")
    print(f"{'figure':<32} {'median ms':>10} {'÷ floor':>8}")
    for name, values in figures.items():
        print(f"{name:<32} {statistics.median(values) * 1000:>10.1f} {statistics.median(values) / base:>7.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
