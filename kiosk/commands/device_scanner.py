"""``kiosk device scanner --port PORT``: wait for one scan and print it as JSON.

A technician's check that the scanner, its cable, its port and its suffix setting work: the
output is one JSON line, ``{"code": "13**…**78 (18)", "encoding": "utf-8", "read_s": 1.42}``.
The code is personal data (an identity token, a payment code), so it is masked unless
``--reveal`` is given. Exit status 1 with a message when the port cannot be opened or nothing
is scanned within the timeout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scanner", help="wait for one scan on the QR code scanner and print it as JSON")
    p.add_argument("--port", required=True, help="serial port of the scanner, e.g. /dev/ttyACM0")
    p.add_argument("--baud", type=int, default=9600, help="line speed (default 9600)")
    p.add_argument("--suffix", choices=("CR", "CRLF", "LF"), default="CR",
                   help="what the scanner sends after each code (default CR)")
    p.add_argument("--timeout", type=float, default=30.0, metavar="S",
                   help="seconds to wait for a scan (default 30)")
    p.add_argument("--reveal", action="store_true", help="print the code in full (it is personal data)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kiosk.hardware.scanner import SerialScanner

    if args.timeout <= 0:
        raise SystemExit("kiosk device scanner: --timeout must be > 0")
    scanner = SerialScanner(args.port, baud=args.baud, suffix=args.suffix)
    started = time.monotonic()
    def ready() -> None:
        print(f"waiting up to {args.timeout:g} s for a scan on {args.port}", file=sys.stderr, flush=True)

    code = scanner.read_once(args.timeout, on_ready=ready)  # KioskError -> message and exit 1 in kiosk.cli
    out = {
        "code": code.text if args.reveal else code.masked,
        "encoding": code.encoding,
        "read_s": round(time.monotonic() - started, 3),
    }
    print(json.dumps(out, ensure_ascii=False), flush=True)
    return 0
