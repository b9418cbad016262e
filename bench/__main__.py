"""``make bench``: every benchmark of the kiosk in one Markdown table, min / median / max.

    .venv/bin/python -m bench [--quick] [--only NAME ...]

Each figure is measured several times on this machine and reported, never asserted. The parts
are the benchmark modules beside this file; their own ``main`` prints more detail:

* startup: cold start of a new process to the first frame of the home screen (``bench_startup``);
* touch: finger lifted -> first frame of the next screen, glFinish'ed (``bench_touch``);
* card: ID card placed on the emulated reader -> the driver's event (``bench_idcard``);
* receipt: certificate receipt bytes, render and checked send time (``bench_printer``'s receipt);
* scanner: scan -> identity on screen and 付款码 scan -> receipt, each with its baseline from
  the same run (``bench_scanner``);
* outbox: fsynced put latency, delivery throughput to the reference backend (``bench_backend``);
* apply: capture -> page ready on the emulated document camera, submit -> 办件编号 with three
  pages, each beside its baseline from the same run (``bench_application``);
* floor: the kiosk's taps, 大字版 and language switches, first visits, full GC pauses and cold
  start as ratios (p50, p95) to a minimal Kivy app run alternately in the same run (``bench_floor``);
* soak: RSS after 100 sessions and at the end of a short soak, and growth per 1,000 sessions;
  with the 5,000-session report of ``kiosk soak`` when ``out/soak/soak-5000.json`` exists.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: (figure, unit, values); values already in the unit
Row = tuple[str, str, list[float]]
SOAK_5000 = ROOT / "out" / "soak" / "soak-5000.json"


def _scaled(values: list[float], factor: float) -> list[float]:
    return [v * factor for v in values]


def startup(quick: bool) -> list[Row]:
    from bench.bench_startup import measure

    figures = measure(3 if quick else 5)
    return [("cold start -> first home frame", "s", figures["cold start to first home frame (s)"]),
            ("RSS at the first home frame", "MiB", figures["RSS at first frame (MiB)"]),
            ("first start of a new terminal -> first home frame", "s", figures["first start in a new data folder (s)"])]


def touch(quick: bool) -> list[Row]:
    from bench.bench_touch import measure

    return [(f"touch: {name}", "ms", _scaled(values, 1000)) for name, values in measure(4 if quick else 12).items()]


def card(quick: bool) -> list[Row]:
    from bench.bench_idcard import run

    return [(f"ID card: {name}", "ms", _scaled(values, 1000)) for name, values in run(10 if quick else 30).items()]


def scanner(quick: bool) -> list[Row]:
    from bench.bench_scanner import driver_latency, measure

    rows = [(f"scanner: {name}", "ms", _scaled(values, 1000)) for name, values in measure(3 if quick else 10).items()]
    return rows + [("scanner: code written -> SCAN event (9600 baud)", "ms", _scaled(driver_latency(10), 1000))]


def receipt(quick: bool) -> list[Row]:
    from bench.bench_printer import CERTIFICATE
    from kiosk.hardware.printer import network_printer
    from kiosk.hardware.receipt_escpos import render_receipt
    from kiosk.receipt import PrintJob
    from kiosk.sim.escpos import PrinterEmulator

    runs = 20 if quick else 100
    size = len(render_receipt(CERTIFICATE, width_chars=32))
    renders, jobs = [], []
    for _ in range(runs):
        t = time.perf_counter()
        render_receipt(CERTIFICATE, width_chars=32)
        renders.append(time.perf_counter() - t)
    with PrinterEmulator(columns=32) as emu:
        driver = network_printer(emu.url, width_chars=32)
        try:
            for i in range(runs + 1):
                t = time.perf_counter()
                driver.print_job(PrintJob(job_id=f"bench-{i}", receipt=CERTIFICATE))
                jobs.append(time.perf_counter() - t)
        finally:
            driver.stop()
    return [("receipt: job size (certificate, native QR)", "bytes", [float(size)]),
            ("receipt: render to ESC/POS", "ms", _scaled(renders, 1000)),
            ("receipt: checked print_job over loopback TCP", "ms", _scaled(jobs[1:], 1000))]  # first one connects


def outbox(quick: bool) -> list[Row]:
    from bench.bench_backend import SECRET, TERMINAL, bench_delivery, bench_put
    from kiosk.sim.backend import ReferenceBackend

    puts: list[float] = []
    throughput: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-outbox-", dir=os.environ.get("TMPDIR")) as d:
        backend = ReferenceBackend(Path(d) / "ref", {TERMINAL: SECRET})
        url = backend.start()
        try:
            for run in range(2 if quick else 3):
                tmp = Path(d) / f"run{run}"
                tmp.mkdir()
                puts += bench_put(tmp, 200 if quick else 500)
                throughput.append(bench_delivery(tmp, url, 200 if quick else 500))
        finally:
            backend.close()
    return [("outbox: put (fsync, synchronous=FULL)", "ms", _scaled(puts, 1000)),
            ("outbox: delivery to the backend, loopback", "rows/s", throughput)]


def apply(quick: bool) -> list[Row]:
    from bench.bench_application import measure

    return [(f"apply: {name}", "KiB" if name.startswith("pages") else "ms",
             _scaled(values, 1 / 1024 if name.startswith("pages") else 1000))
            for name, values in measure(8 if quick else 20).items()]


def floor(quick: bool) -> list[Row]:
    from bench.bench_floor import measure, rows

    floor_figures, kiosk_figures = measure(1 if quick else 3, 3 if quick else 5)
    out: list[Row] = [(f"floor: {name}", "ms", _scaled(values, 1000)) for name, values in floor_figures.items()]
    for name, _n, _p50, _p95, ref, r50, r95 in rows(floor_figures, kiosk_figures):
        out += [(f"kiosk / floor ({ref}): {name}, p50", "x", [r50]),
                (f"kiosk / floor ({ref}): {name}, p95", "x", [r95])]
    return out


def soak(quick: bool) -> list[Row]:
    sessions = 150 if quick else 500
    with tempfile.TemporaryDirectory(prefix="bench-soak-", dir=os.environ.get("TMPDIR")) as d:
        out = Path(d) / "soak.json"
        proc = subprocess.run([sys.executable, "-m", "kiosk.cli", "soak", "--sessions", str(sessions),
                               "--sample-every", "25", "--dir", str(Path(d) / "work"), "--out", str(out)],
                              capture_output=True, text=True, timeout=60 + 5 * sessions)
        if not out.exists():
            raise RuntimeError(f"kiosk soak reported nothing: {proc.stderr[-2000:]}")
        report = json.loads(out.read_text())
    rows = _soak_rows(report, f"soak {sessions}")
    if SOAK_5000.exists():
        rows += _soak_rows(json.loads(SOAK_5000.read_text()), f"soak {SOAK_5000.relative_to(ROOT)}")
    return rows


def _soak_rows(report: dict, label: str) -> list[Row]:
    done = report["sessions_done"]
    end = report["samples"][-1]
    rows: list[Row] = []
    if "100" in report["rss_kib_after"]:
        rows.append((f"{label}: RSS after 100 sessions", "MiB", [report["rss_kib_after"]["100"] / 1024]))
    rows.append((f"{label}: RSS after {done} sessions", "MiB", [end["rss_kib"] / 1024]))
    growth = report["growth_per_1000"]
    for key, name, unit, scale in (("rss_kib", "RSS", "MiB", 1 / 1024), ("fds", "open fds", "fds", 1),
                                   ("threads", "threads", "threads", 1)):
        if growth.get(key) is not None:
            rows.append((f"{label}: {name} growth per 1,000 sessions", unit, [growth[key] * scale]))
    return rows


PARTS: dict[str, Callable[[bool], list[Row]]] = {
    "startup": startup, "touch": touch, "card": card, "scanner": scanner, "receipt": receipt, "outbox": outbox,
    "apply": apply, "floor": floor,
    "soak": soak,
}


def _fmt(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(rows: list[Row]) -> str:
    lines = ["| figure | unit | min | median | p95 | max | n |", "|---|---|---|---|---|---|---|"]
    for name, unit, values in rows:
        if not values:
            lines.append(f"| {name} | {unit} | - | - | - | - | 0 |")
            continue
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        lines.append(f"| {name} | {unit} | {_fmt(ordered[0])} | {_fmt(statistics.median(ordered))} | "
                     f"{_fmt(p95)} | {_fmt(ordered[-1])} | {len(values)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer runs: a few minutes in all")
    ap.add_argument("--only", nargs="+", choices=sorted(PARTS), help="run only these parts")
    args = ap.parse_args(argv)
    os.environ.setdefault("TMPDIR", str(ROOT / ".tmp"))
    Path(os.environ["TMPDIR"]).mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    failed: list[str] = []
    started = time.monotonic()
    for name in args.only or PARTS:
        t = time.monotonic()
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        try:
            rows += PARTS[name](args.quick)
        except (Exception, SystemExit) as e:  # one broken part must not hide the others' figures
            failed.append(f"{name}: {type(e).__name__}: {str(e)[-300:]}")
        print(f"bench: {name} took {time.monotonic() - t:.0f} s", file=sys.stderr, flush=True)
    print(f"Benchmarks, {platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{'quick' if args.quick else 'full'} run, {time.monotonic() - started:.0f} s\n")
    print(table(rows))
    for failure in failed:
        print(f"\nnot measured: {failure}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
