"""``kiosk screenshots --out DIR``: every screen, standard and elder mode, Chinese and English.

Runs the screenshot tour (``kiosk.tours.i18n``) offscreen against the reference backend and
simulated devices, with a private data folder and a fixed header clock so the pictures are
reproducible, and writes ``DIR/<screen>-<mode>-<lang>.png`` downscaled (540x960 by default)
and palette-compressed, plus ``DIR/screens.json``: the text on each screen and the boxes of
values that differ from run to run. ``docs/screenshots/`` holds the reviewed set;
``tests/ui/test_screenshots.py`` regenerates and compares against it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

FIXED_CLOCK = "2026-06-01 09:30"
DEFAULT_SIZE = (540, 960)
#: a pixel has changed when a colour channel moved more than this (palette rounding stays below)
PIXEL_THRESHOLD = 48
#: a screen has moved when more than this fraction of its unmasked pixels changed
SCREEN_TOLERANCE = 0.005


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("screenshots", help="screenshots of every screen, both modes and languages")
    p.add_argument("--out", type=Path, default=Path("out/screenshots"), help="folder for the PNGs (default out/screenshots)")
    p.add_argument("--config", help="config file (default config/kiosk.toml)")
    p.add_argument("--size", default="{}x{}".format(*DEFAULT_SIZE), help="output size WxH, or 'full' (default 540x960)")
    p.add_argument("--modes", default="standard,elder",
                   help="which passes: standard, elder or both (default standard,elder); two processes "
                        "with one mode each draw the set in about half the time on two cores")
    p.add_argument("--keep-raw", action="store_true", help="keep the tour's shots (at --size, before the palette) in DIR/raw")
    p.add_argument("--gallery", type=Path, metavar="MARKDOWN",
                   help="also write a Markdown page showing the set (e.g. docs/screenshots.md)")
    p.add_argument("--compare", type=Path, metavar="REVIEWED",
                   help="compare with a reviewed set (e.g. docs/screenshots); diff images go to DIR/diff")
    p.set_defaults(func=run)


def _size(text: str) -> tuple[int, int] | None:
    if text == "full":
        return None
    w, h = text.lower().split("x")
    return int(w), int(h)


def save_png(source: Path, target: Path, size: tuple[int, int] | None) -> None:
    """Downscale and store with a 256-colour palette: a tenth of the bytes, the same picture."""
    from PIL import Image

    with Image.open(source) as image:
        image = image.convert("RGB")
        if size is not None and image.size != size:
            image = image.resize(size, Image.Resampling.LANCZOS)
        image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            target, optimize=True)


def collect(raw: Path, out: Path, size: tuple[int, int] | None) -> dict:
    """Turn the tour's record into the named, downscaled set and its manifest."""
    result = json.loads((raw / "tour.json").read_text(encoding="utf-8"))
    screens: dict[str, dict] = {}
    for step in result["steps"]:
        name = step["name"]
        if "masks" not in step:  # a failure shot, not a screen of the set
            continue
        source = raw / step["png"]
        # masks are in the window's pixels; the tour records the window's size with each shot
        scale = 1.0 if size is None else size[0] / step["window"][0]
        save_png(source, out / f"{name}.png", size)
        screens[name] = {
            "screen": step["screen"],
            "mode": step["mode"],
            "lang": step["lang"],
            "texts": step["texts"],
            "masks": [[int(v * scale) for v in box] for box in step["masks"]],
            "layout": step.get("layout", []),
        }
    manifest = {"ok": result["ok"], "failure": result["failure"], "facts": result["facts"], "screens": screens}
    (out / "screens.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return manifest


def _tour(tour):
    from kiosk.tours.i18n import screenshots  # imports kivy: only once start_app configured it

    yield from screenshots(tour)


SHEET_COLUMNS = 6
SHEET_THUMB = (180, 320)


def contact_sheets(manifest: dict, out: Path) -> list[Path]:
    """One picture per mode and language with every screen on it, named under each thumbnail:
    the whole terminal at a glance (``contact-standard-zh.png`` ...)."""
    from PIL import Image, ImageDraw, ImageFont

    from kiosk.fonts import cjk_font_path

    font = ImageFont.truetype(str(cjk_font_path()), 16)
    screens = list(dict.fromkeys(name.rsplit("-", 2)[0] for name in manifest["screens"]))
    sheets = []
    for mode in ("standard", "elder"):
        for lang in ("zh", "en"):
            names = [s for s in screens if f"{s}-{mode}-{lang}" in manifest["screens"]]
            if not names:
                continue
            w, h = SHEET_THUMB
            rows = -(-len(names) // SHEET_COLUMNS)
            sheet = Image.new("RGB", (SHEET_COLUMNS * (w + 12) + 12, rows * (h + 36) + 12), "white")
            draw = ImageDraw.Draw(sheet)
            for i, screen in enumerate(names):
                x, y = 12 + (i % SHEET_COLUMNS) * (w + 12), 12 + (i // SHEET_COLUMNS) * (h + 36)
                with Image.open(out / f"{screen}-{mode}-{lang}.png") as shot:
                    sheet.paste(shot.convert("RGB").resize(SHEET_THUMB, Image.Resampling.LANCZOS), (x, y))
                draw.rectangle([x - 1, y - 1, x + w, y + h], outline=(160, 160, 160))
                draw.text((x, y + h + 6), screen, fill=(30, 30, 30), font=font)
            path = out / f"contact-{mode}-{lang}.png"
            sheet.save(path, optimize=True)
            sheets.append(path)
    return sheets


def write_gallery(manifest: dict, out: Path, page: Path) -> None:
    """Contact sheets first (every screen on one picture per mode and language), then a
    Markdown table: one row per screen, standard/elder x 中文/English."""
    rel = os.path.relpath(out, page.parent)
    screens = list(dict.fromkeys(name.rsplit("-", 2)[0] for name in manifest["screens"]))  # tour order
    sheets = contact_sheets(manifest, out)
    problems = sum(len(s.get("layout", [])) for s in manifest["screens"].values())
    lines = [
        "# Screenshots",
        "",
        "Every screen of the terminal in standard and elder mode (大字版), in Chinese and in English,",
        "as `kiosk screenshots --out docs/screenshots --gallery docs/screenshots.md` draws them",
        "(540x960, from the 1080x1920 window). `tests/ui/test_screenshots.py` compares a fresh run",
        "with these pictures, so they are the reviewed look of each screen.",
        "",
        "Layout audit of this set (`kiosk/tours/layout.py`: clipped text, words cut in the middle,",
        f"overlaps, uneven rows, small text or targets, bare bands): {problems} problem(s).",
        "",
        "## All screens at a glance",
        "",
        *(f"### {p.stem.removeprefix('contact-').replace('-', ' · ')}\n\n![{p.stem}]({rel}/{p.name})\n" for p in sheets),
        "## Screen by screen",
        "",
        "| screen | standard 中文 | standard English | 大字版 中文 | elder English |",
        "|---|---|---|---|---|",
    ]
    for screen in screens:
        cells = []
        for mode in ("standard", "elder"):
            for lang in ("zh", "en"):
                name = f"{screen}-{mode}-{lang}"
                cells.append(f"![{name}]({rel}/{name}.png)" if name in manifest["screens"] else "")
        lines.append(f"| `{screen}` | " + " | ".join(cells) + " |")
    page.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _masked(image, boxes: list[list[int]]):
    from PIL import ImageDraw

    image = image.copy()
    draw = ImageDraw.Draw(image)
    for box in boxes:
        draw.rectangle([box[0], box[1], box[2] - 1, box[3] - 1], fill=(255, 0, 255))
    return image


def changed_fraction(reviewed: Path, new: Path, masks: list[list[int]], diff_png: Path | None = None) -> float:
    """Share of pixels that changed between two shots, leaving out the masked boxes."""
    from PIL import Image, ImageChops

    with Image.open(reviewed) as a, Image.open(new) as b:
        a, b = a.convert("RGB"), b.convert("RGB")
        if a.size != b.size:
            return 1.0
        a, b = _masked(a, masks), _masked(b, masks)
        delta = ImageChops.difference(a, b)
        # a pixel moved when any one channel moved (greyscale would hide a pure colour change)
        bands = [Image.eval(band, lambda v: 255 if v > PIXEL_THRESHOLD else 0) for band in delta.split()]
        moved = ImageChops.lighter(ImageChops.lighter(bands[0], bands[1]), bands[2])
        count = moved.histogram()[255]
        # the unmasked area: boxes overlap (the reviewed and the new shot's boxes of one widget)
        covered = Image.new("L", a.size, 0)
        for box in masks:
            covered.paste(255, (box[0], box[1], box[2], box[3]))
        area = covered.histogram()[0]
        if diff_png is not None and count:
            red = Image.new("RGB", a.size, (230, 0, 0))
            Image.composite(red, Image.blend(a, b, 0.5), moved).save(diff_png)
        return count / max(1, area)


def mode_of(name: str) -> str:
    """``record-elder-en`` -> ``elder``."""
    return name.rsplit("-", 2)[1]


def compare(reviewed_dir: Path, new_dir: Path, diff_dir: Path, modes: tuple[str, ...] = ("standard", "elder"),
            ) -> dict[str, object]:
    """Every reviewed screen of ``modes`` against its new shot: what moved (with a diff image),
    what is missing, what is new."""
    reviewed = json.loads((reviewed_dir / "screens.json").read_text(encoding="utf-8"))["screens"]
    reviewed = {name: s for name, s in reviewed.items() if mode_of(name) in modes}
    new = json.loads((new_dir / "screens.json").read_text(encoding="utf-8"))["screens"]
    diff_dir.mkdir(parents=True, exist_ok=True)
    fractions: dict[str, float] = {}
    for name in sorted(set(reviewed) & set(new)):
        masks = reviewed[name]["masks"] + new[name]["masks"]
        fractions[name] = changed_fraction(reviewed_dir / f"{name}.png", new_dir / f"{name}.png", masks,
                                           diff_dir / f"{name}.png")
    return {
        "fractions": fractions,
        "moved": sorted(n for n, f in fractions.items() if f > SCREEN_TOLERANCE),
        "missing": sorted(set(reviewed) - set(new)),
        "unreviewed": sorted(set(new) - set(reviewed)),
    }


def run(args: argparse.Namespace) -> int:
    from kiosk.commands.demo import (
        DEMO_ADMIN_PIN,
        simulated,
        simulated_options,
        start_reference_backend,
    )
    from kiosk.commands.run import start_app
    from kiosk.config import load_config
    from kiosk.logsetup import LIBRARIES

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in LIBRARIES:  # the state machine's "Executed callback" chatter, as in make demo
        logging.getLogger(name).setLevel(logging.WARNING)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not modes or set(modes) - {"standard", "elder"}:
        print(f"kiosk: --modes takes standard, elder or both, not {args.modes!r}")
        return 2
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="kiosk-screenshots-"))
    try:
        config = load_config(args.config)
        # a fresh data folder every time: the same backend records, no earlier sessions
        config = config.model_copy(update={
            "storage": config.storage.model_copy(update={"data_dir": work / "var"}),
            "backend": config.backend.model_copy(update={"secret_file": work / "terminal.secret",
                                                          "secret_env": None}),
            "ui": config.ui.model_copy(update={"elder_mode_default": False}),
            "terminal": config.terminal.model_copy(update={"locale": "zh_CN"}),
        })
        from kiosk.bootstrap import ensure_secret

        backend, url = start_reference_backend(config, ensure_secret(config))
        try:
            raw = work / "raw"
            code = start_app(simulated(config, url), fullscreen=False, headless=True, tour=_tour, out_dir=raw,
                             options=simulated_options(backend, fixed_clock=FIXED_CLOCK, animate=False),
                             tour_options={"admin_pin": DEMO_ADMIN_PIN, "modes": modes,
                                           "shot_size": _size(args.size)})
        finally:
            backend.stop()
        if not (raw / "tour.json").exists():
            print("kiosk: the screenshot tour wrote nothing")
            return 1
        manifest = collect(raw, out, _size(args.size))
        if args.gallery is not None:
            write_gallery(manifest, out, args.gallery.resolve())
        if args.keep_raw:
            shutil.copytree(raw, out / "raw", dirs_exist_ok=True)
        print(f"{len(manifest['screens'])} screenshots written to {out}")
        report = {name: s["layout"] for name, s in manifest["screens"].items() if s["layout"]}
        (out / "layout.txt").write_text("".join(
            f"{name}\n" + "".join(f"  - {p}\n" for p in problems) for name, problems in sorted(report.items())
        ) or "no layout problems\n", encoding="utf-8")
        print(f"layout audit: {sum(map(len, report.values()))} problem(s) on {len(report)} screen(s) "
              f"(see {out / 'layout.txt'})")
        if args.compare is not None:
            result = compare(args.compare.resolve(), out, out / "diff", tuple(modes))
            for name, fraction in result["fractions"].items():
                print(f"  {name}: {fraction:.4%} changed{'  MOVED' if name in result['moved'] else ''}")
            for kind in ("moved", "missing", "unreviewed"):
                if result[kind]:
                    print(f"{kind}: {', '.join(result[kind])}")
            if result["moved"] or result["missing"]:
                code = code or 1
        return code
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    import sys

    parser = argparse.ArgumentParser(prog="kiosk")
    register(parser.add_subparsers(dest="command", required=True))
    parsed = parser.parse_args(["screenshots", *sys.argv[1:]])
    sys.exit(parsed.func(parsed))
