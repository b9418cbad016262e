"""The kiosk beside the floor: every figure of the kiosk as a ratio to a minimal Kivy app.

Absolute milliseconds on a shared 2-core machine mean little; a ratio to the floor measured in
the same run does. The floor (``bench/floor_app.py``) is a minimal Kivy app with the kiosk's
window, font and GL settings showing a 12-tile Chinese home page and a second page it switches
to on a real touch. Each round runs the floor's taps, the kiosk's sessions (``bench_touch``),
then a cold start of each (``bench_startup``), so both see the same load on the machine. Taps
are divided by the floor's tap -> other page, the kiosk's first visits by the floor's first
visit, full GC pauses by the floor's tap (a pause is a tap the resident waits twice for), cold
start (a terminal with its data folder in place, and apart its very first start) by the floor's
spawn -> first frame.

    .venv/bin/python -m bench.bench_floor [--rounds 3] [--sessions 5] [--built-ahead] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.windowed import REDRAWN, percentile  # noqa: E402 - after the path above

FLOOR_TAP = "tap -> other page"
FLOOR_FIRST = "tap -> other page (first visit)"
FLOOR_GC = "full GC pause"
FLOOR_START = "spawn -> first frame"
KIOSK_START = "cold start -> first home frame"
KIOSK_FIRST_START = "first start of a new terminal -> first home frame"
TAPS_PER_ROUND = 30


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DISPLAY", None)  # offscreen, as the kiosk's benches
    return env


def floor_taps(taps: int) -> dict[str, list[float]]:
    out = Path(tempfile.mkdtemp(prefix="bench-floor-", dir=os.environ.get("TMPDIR"))) / "floor.json"
    proc = subprocess.run([sys.executable, "-m", "bench.floor_app", "touch", str(taps), str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env=_env())
    if not out.exists():
        raise SystemExit(f"bench_floor: the floor reported nothing:\n{proc.stderr[-3000:]}")
    return json.loads(out.read_text())


def floor_start() -> float:
    started = time.time()
    proc = subprocess.run([sys.executable, "-m", "bench.floor_app", "start"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env=_env())
    line = next((x for x in proc.stdout.splitlines() if x.startswith("FLOOR_FIRST_FRAME")), None)
    if line is None:
        raise SystemExit(f"bench_floor: no first frame from the floor:\n{proc.stderr[-3000:]}")
    return float(line.split()[1]) - started


def measure(rounds: int, sessions: int, built_ahead: bool = False) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """(floor, kiosk) figures in seconds, each pooled over ``rounds`` alternating rounds."""
    from bench.bench_startup import measure as kiosk_start
    from bench.bench_touch import measure as kiosk_touch

    floor: dict[str, list[float]] = {}
    kiosk: dict[str, list[float]] = {}

    def add(into: dict[str, list[float]], figures: dict[str, list[float]]) -> None:
        for name, values in figures.items():
            into.setdefault(name, []).extend(values)

    for n in range(rounds):
        print(f"bench_floor: round {n + 1} of {rounds}", file=sys.stderr, flush=True)
        add(floor, floor_taps(TAPS_PER_ROUND))
        add(kiosk, kiosk_touch(sessions, built_ahead))
        for _ in range(2):
            add(floor, {FLOOR_START: [floor_start()]})
            started = kiosk_start(1)
            add(kiosk, {KIOSK_START: started["cold start to first home frame (s)"],
                        KIOSK_FIRST_START: started["first start in a new data folder (s)"]})
    return floor, kiosk



def reference(name: str) -> str:
    """The floor figure a kiosk figure is divided by."""
    if name in (KIOSK_START, KIOSK_FIRST_START):
        return FLOOR_START
    if name == REDRAWN:
        return REDRAWN
    if name.endswith("(first visit)"):
        return FLOOR_FIRST
    return FLOOR_TAP


def rows(floor: dict[str, list[float]], kiosk: dict[str, list[float]]) -> list[tuple[str, int, float, float, str, float, float]]:
    """(figure, n, p50 ms, p95 ms, floor figure, p50 ratio, p95 ratio) for every kiosk figure measured."""
    out = []
    for name, values in kiosk.items():
        ref = floor.get(reference(name)) or []
        if not values or not ref:
            continue
        p50, p95 = statistics.median(values), percentile(values, 0.95)
        f50, f95 = statistics.median(ref), percentile(ref, 0.95)
        out.append((name, len(values), p50 * 1000, p95 * 1000, reference(name), p50 / f50, p95 / f95))
    return out


def table(floor: dict[str, list[float]], kiosk: dict[str, list[float]]) -> str:
    lines = ["| | n | p50 ms | p95 ms | p50 / floor | p95 / floor |", "|---|---|---|---|---|---|"]
    for name, values in floor.items():
        if values:
            lines.append(f"| floor: {name} | {len(values)} | {statistics.median(values) * 1000:.0f} | "
                         f"{percentile(values, 0.95) * 1000:.0f} | 1 | 1 |")
    for name, n, p50, p95, _ref, r50, r95 in rows(floor, kiosk):
        lines.append(f"| kiosk: {name} | {n} | {p50:.0f} | {p95:.0f} | {r50:.1f}x | {r95:.1f}x |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3, help="floor and kiosk alternately, this many times")
    ap.add_argument("--sessions", type=int, default=5, help="kiosk sessions through the window per round")
    ap.add_argument("--built-ahead", action="store_true",
                    help="the kiosk's sessions start once it has built every screen while idle at home")
    ap.add_argument("--json", type=Path, help="also write the raw figures (seconds) here")
    args = ap.parse_args(argv)
    os.environ.setdefault("TMPDIR", str(ROOT / ".tmp"))
    floor, kiosk = measure(args.rounds, args.sessions, args.built_ahead)
    if args.json:
        args.json.write_text(json.dumps({"floor": floor, "kiosk": kiosk}, ensure_ascii=False, indent=1))
    print(f"kiosk / floor, {args.rounds} rounds of {TAPS_PER_ROUND} floor taps and {args.sessions} kiosk sessions, "
          "offscreen llvmpipe 1080x1920" + (", sessions after every screen was built while idle" if args.built_ahead else ""))
    print(table(floor, kiosk))
    return 0


if __name__ == "__main__":
    sys.exit(main())
