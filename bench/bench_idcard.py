"""Card-read latency: an ID card placed on the emulated reader -> its ``Identity`` in the driver.

The emulator runs behind a real pty, paced at a real baud rate (115200 by default), and the
shipped driver polls it as it does in a hall. Two figures per run:

* placed -> CARD_PLACED: what a resident waits, poll interval included (0.1 s by default);
* find -> select -> read: one read cycle on the wire, what the poll interval adds to.

Usage: ``.venv/bin/python bench/bench_idcard.py [--runs N] [--baud B] [--poll S]``.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import queue
import statistics
import sys
import tempfile
import time

from kiosk.hardware import idcard_frame as f
from kiosk.hardware.base import DeviceEvent, EventKind
from kiosk.hardware.idcard import POLL_INTERVAL_S, SerialIdCardReader
from kiosk.sim.idcard_emulator import IdCardEmulator

KEYS = ("zhang_xiuying", "liu_yan", "hmt_permit", "foreigner_2023")


def _placed_to_event(emu: IdCardEmulator, runs: int, poll: float) -> list[float]:
    events: queue.Queue[DeviceEvent] = queue.Queue()
    reader = SerialIdCardReader(emu.port, poll_interval_s=poll)
    reader.start(events.put)
    out = []
    try:
        for i in range(runs):
            emu.remove()
            while reader.current() is not None or not events.empty():
                try:
                    events.get(timeout=0.05)
                except queue.Empty:
                    pass
            # land the card at a random point of the poll cycle, as a hand would
            time.sleep(poll * ((i * 0.618) % 1.0))
            started = time.monotonic()
            emu.place(KEYS[i % len(KEYS)])
            while True:
                event = events.get(timeout=10)
                if event.kind == EventKind.CARD_PLACED:
                    out.append(time.monotonic() - started)
                    break
    finally:
        reader.stop()
        emu.remove()
    return out


def _read_cycle(emu: IdCardEmulator, runs: int) -> list[float]:
    reader = SerialIdCardReader(emu.port)
    port = reader._open()
    out = []
    try:
        for i in range(runs):
            emu.place(KEYS[i % len(KEYS)])
            started = time.monotonic()
            reader._transact(port, f.FIND_CARD, "find card")
            reader._select_and_read(port)
            out.append(time.monotonic() - started)
    finally:
        port.close()
    return out


def run(runs: int = 20, baud: int = 115200, poll: float = 0.3) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="bench-idcard-") as tmp:
        emu = IdCardEmulator(tmp, pace_baud=baud).start()
        try:
            return {
                f"placed -> CARD_PLACED (poll {poll:g} s)": _placed_to_event(emu, runs, poll),
                "find+select+read cycle": _read_cycle(emu, runs),
            }
        finally:
            emu.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--baud", type=int, default=115200)
    ap.add_argument("--poll", type=float, default=POLL_INTERVAL_S, help="seconds between polls (the driver's default)")
    args = ap.parse_args(argv)
    results = run(args.runs, args.baud, args.poll)
    print(f"ID-card read over a pty, emulator paced at {args.baud} baud, {args.runs} runs")
    print(f"{'measure':<34} {'min ms':>8} {'median ms':>10} {'max ms':>8}")
    for name, values in results.items():
        ms = [v * 1000 for v in values]
        print(f"{name:<34} {min(ms):>8.1f} {statistics.median(ms):>10.1f} {max(ms):>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
