"""Evaluation-pad latencies: the shipped driver against the emulated pad on a real pty.

* prompt() -> pad lit: how soon the light comes on (the reader thread's write tick);
* key press -> RATING event at the sink: what the journey waits after the resident presses;
* unplug -> NO_DEVICE, replug -> ONLINE: how fast the hub can tell residents;
* CPU time of the driver + emulator threads while idle (heartbeat 5 s).

Usage: ``.venv/bin/python bench/bench_ratingpad.py [--runs N] [--baud B]``. Figures are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import queue
import resource
import statistics
import time

from kiosk.hardware.base import DeviceEvent, DeviceStatus, EventKind
from kiosk.hardware.ratingpad import SerialRatingPad
from kiosk.sim.ratingpad_emulator import RatingPadEmulator


def _wait(cond, timeout: float = 5.0) -> float:
    start = time.perf_counter()
    while not cond():
        if time.perf_counter() - start > timeout:
            raise TimeoutError
        time.sleep(0.0005)
    return time.perf_counter() - start


def _ms(xs: list[float]) -> str:
    xs = sorted(xs)
    p95 = xs[min(len(xs) - 1, int(len(xs) * 0.95))]
    return f"median {statistics.median(xs) * 1e3:.1f} ms, p95 {p95 * 1e3:.1f} ms, max {xs[-1] * 1e3:.1f} ms (n={len(xs)})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--baud", type=int, default=9600)
    args = ap.parse_args()

    emu = RatingPadEmulator(pace_baud=args.baud)
    emu.start()
    events: queue.Queue[DeviceEvent] = queue.Queue()
    pad = SerialRatingPad(emu.port, baud=args.baud, heartbeat_s=5.0)
    pad.start(events.put)
    try:
        _wait(lambda: pad.status() is DeviceStatus.ONLINE)
        lit, rated = [], []
        for i in range(args.runs):
            pad.prompt(60)
            lit.append(_wait(lambda: emu.lit))
            t0 = time.perf_counter()
            emu.press(i % 5 + 1)
            while True:
                ev = events.get(timeout=5)
                if ev.kind is EventKind.RATING:
                    break
            rated.append(time.perf_counter() - t0)
        print(f"pace {args.baud} baud")
        print(f"prompt() -> pad lit:      {_ms(lit)}")
        print(f"key press -> RATING:      {_ms(rated)}")

        down, up = [], []
        for _ in range(10):
            emu.unplug()
            down.append(_wait(lambda: pad.status() is DeviceStatus.NO_DEVICE))
            emu.replug()
            up.append(_wait(lambda: pad.status() is DeviceStatus.ONLINE))
        print(f"unplug -> NO_DEVICE:      {_ms(down)}")
        print(f"replug -> ONLINE:         {_ms(up)}")

        before = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        time.sleep(10)
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        print(f"idle CPU (driver + emulator): {cpu / (time.perf_counter() - t0) * 100:.2f} % of one core")
    finally:
        pad.stop()
        emu.stop()


if __name__ == "__main__":
    main()
