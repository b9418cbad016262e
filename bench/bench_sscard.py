"""Social-security-card read time through a real pcscd, vsmartcard's vpcd and the Python card.

Starts a private pcscd (as the tests do; it refuses to run if another pcscd is up), puts a
demo card in the vpcd reader and measures, per run:

* full read: SCardConnect, SELECT the application, EF05 + EF06 record by record (61xx / 6Cxx
  followed as a T=0 card needs), parse, SCardDisconnect: what one card costs once present;
* APDUs per read and the time per APDU round trip;
* inserted -> CARD_PLACED: a card connected to vpcd until the reader's monitor has read it,
  which is dominated by pcscd's presence polling (about every 0.4 s);
* the same full read on the in-process DirectTransport (demo mode), for comparison.

Usage: ``.venv/bin/python bench/bench_sscard.py [--runs N] [--inserts M]``.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import queue
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kiosk.hardware import sscard_apdu  # noqa: E402
from kiosk.hardware.base import DeviceEvent, EventKind  # noqa: E402
from kiosk.hardware.sscard import CardTransport, SocialSecurityCardReader  # noqa: E402
from kiosk.hardware.sscard_pcsc import PcscTransport  # noqa: E402
from kiosk.sim.pcscd import PrivatePcscd  # noqa: E402
from kiosk.sim.sscard_slot import DirectTransport  # noqa: E402
from kiosk.sim.vpcd_card import VpcdCardSlot  # noqa: E402

KEYS = ("zhang_xiuying", "liu_yan", "ayigul", "ma_yumei")


def _fmt(name: str, values: list[float], unit: str = "ms", scale: float = 1000.0) -> str:
    v = [x * scale for x in values]
    return (
        f"{name:<38} n={len(v):<4} min {min(v):8.3f}  median {statistics.median(v):8.3f}"
        f"  max {max(v):8.3f} {unit}"
    )


def full_reads(transport: CardTransport, runs: int) -> tuple[list[float], int]:
    """Time connect + read + disconnect; returns the times and the APDUs of one read."""
    transport.open()
    try:
        state = transport.wait_change(2.0)
        if not state.present:
            raise SystemExit("bench: no card present")
        times, apdus = [], 0
        for _ in range(runs):
            started = time.perf_counter()
            transmit = transport.connect()
            count = 0

            def counting(apdu: list[int], _t=transmit) -> tuple[list[int], int, int]:
                nonlocal count
                count += 1
                return _t(apdu)

            sscard_apdu.read_card(counting)
            transport.disconnect()
            times.append(time.perf_counter() - started)
            apdus = count
        return times, apdus
    finally:
        transport.close()


def insert_to_event(slot: VpcdCardSlot, inserts: int) -> list[float]:
    events: queue.Queue[DeviceEvent] = queue.Queue()
    reader = SocialSecurityCardReader(PcscTransport(), poll_s=0.5)
    reader.start(events.put)
    out = []
    try:
        for i in range(inserts):
            slot.remove()
            while True:  # wait until the previous card has been seen leaving
                try:
                    if events.get(timeout=3).kind is EventKind.CARD_REMOVED:
                        break
                except queue.Empty:
                    break
            time.sleep(0.9 + 0.4 * ((i * 0.618) % 1.0))  # a hand lands at any point of a poll
            slot.insert(KEYS[i % len(KEYS)])
            slot.wait_connected(5)
            started = time.monotonic()
            while True:
                event = events.get(timeout=10)
                if event.kind is EventKind.CARD_PLACED:
                    out.append(time.monotonic() - started)
                    break
    finally:
        reader.stop()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="full reads (default 200)")
    parser.add_argument("--inserts", type=int, default=10, help="insert -> event runs (default 10)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-sscard-") as tmp:
        pcscd = PrivatePcscd(Path(tmp)).start()
        slot = VpcdCardSlot(pcscd.port).start()
        try:
            slot.insert(KEYS[0])
            slot.wait_connected(5)
            time.sleep(0.8)  # pcscd powers the card up at its next poll
            times, apdus = full_reads(PcscTransport(pcscd.reader_name), args.runs)
            print(f"pcscd + vpcd, reader {pcscd.reader_name!r}, card {KEYS[0]}")
            print(_fmt("full read (connect..disconnect)", times))
            per_apdu = [t / apdus for t in times]
            print(_fmt(f"per APDU ({apdus} APDUs per read)", per_apdu))
            placed = insert_to_event(slot, args.inserts)
            print(_fmt("inserted -> CARD_PLACED", placed, "s", 1.0))
        finally:
            slot.stop()
            pcscd.stop()

    direct = DirectTransport()
    direct.insert(KEYS[0])
    times, apdus = full_reads(direct, args.runs)
    print(_fmt(f"DirectTransport full read ({apdus} APDUs)", times))
    return 0


if __name__ == "__main__":
    sys.exit(main())
