"""The RSS curve of a ``kiosk soak`` report, drawn to a PNG with Pillow (no plotting library).

    .venv/bin/python -m bench.soak_plot REPORT.json OUT.png [--title TEXT]

One point per sample (RSS in MiB against sessions done), the line of the fitted growth after
the report's warm-up, and the first sample's RSS as a dashed reference with 1.5x it marked.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

W, H = 1000, 560
LEFT, RIGHT, TOP, BOTTOM = 90, 30, 60, 70


def _font(size: int):
    try:
        from kiosk.fonts import cjk_font_path

        return ImageFont.truetype(str(cjk_font_path()), size)
    except (OSError, ImportError):
        return ImageFont.load_default()


def draw(report: dict, title: str) -> Image.Image:
    samples = [(s["sessions"], s["rss_kib"] / 1024) for s in report["samples"]]
    first = samples[0][1]
    xs = [x for x, _ in samples]
    ys = [y for _, y in samples] + [first * 1.5]
    x0, x1 = 0, max(xs) or 1
    y0, y1 = 0, max(ys) * 1.05

    def at(x: float, y: float) -> tuple[float, float]:
        return (LEFT + (x - x0) / (x1 - x0) * (W - LEFT - RIGHT),
                H - BOTTOM - (y - y0) / (y1 - y0) * (H - TOP - BOTTOM))

    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    small, big = _font(16), _font(20)
    d.text((LEFT, 18), title, fill="black", font=big)
    d.line([at(x0, y0), at(x1, y0)], fill="black", width=1)
    d.line([at(x0, y0), at(x0, y1)], fill="black", width=1)
    step = max(50, round(y1 / 5 / 50) * 50)
    for tick in range(0, int(y1) + 1, step):
        d.line([at(x0, tick), at(x1, tick)], fill=(225, 225, 225))
        d.text((10, at(x0, tick)[1] - 9), f"{tick} MiB", fill="black", font=small)
    for tick in sorted({0, x1 // 4, x1 // 2, 3 * x1 // 4, x1}):
        d.text((at(tick, y0)[0] - 12, H - BOTTOM + 8), str(tick), fill="black", font=small)
    d.text((W // 2 - 40, H - 30), "sessions", fill="black", font=small)
    for y, colour, label in ((first, (120, 120, 120), "first sample"), (first * 1.5, (200, 60, 60), "1.5x the first sample")):
        for x in range(LEFT, W - RIGHT, 16):
            d.line([(x, at(0, y)[1]), (x + 8, at(0, y)[1])], fill=colour, width=1)
        d.text((W - RIGHT - 190, at(0, y)[1] - 22), label, fill=colour, font=small)
    d.line([at(x, y) for x, y in samples], fill=(30, 90, 180), width=2)
    for x, y in samples:
        cx, cy = at(x, y)
        d.ellipse([cx - 3, cy - 3, cx + 3, cy + 3], fill=(30, 90, 180))
    growth = (report.get("growth_per_1000") or {}).get("rss_kib")
    if growth is not None:
        d.text((LEFT + 10, TOP - 8), f"fitted growth after warm-up: {growth / 1024:+.1f} MiB per 1,000 sessions",
               fill=(30, 90, 180), font=small)
    return img


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--title", default="kiosk soak: RSS against sessions")
    args = ap.parse_args(argv)
    draw(json.loads(args.report.read_text()), args.title).save(args.out, optimize=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
