"""``python -m kiosk.sim.escpos --port 9100 --out var/receipts``: the emulator on its own."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from kiosk.sim.escpos.server import PrinterEmulator


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="ESC/POS receipt printer emulator on loopback TCP")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9100)
    ap.add_argument("--out", type=Path, help="write a PNG per printed receipt here")
    ap.add_argument("--columns", type=int, default=32, help="32 for 58 mm paper, 48 for 80 mm")
    ap.add_argument("--encoding", default="gb18030")
    args = ap.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    dots = 576 if args.columns >= 48 else 384
    emulator = PrinterEmulator(
        args.host,
        args.port,
        encoding=args.encoding,
        columns=args.columns,
        dots_per_line=dots,
        out_dir=args.out,
    )
    emulator.start()
    print(f"printer emulator listening on {emulator.url}", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    emulator.stop()
    print(f"{emulator.printed} receipt(s) printed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
