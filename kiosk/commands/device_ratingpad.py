"""``kiosk device ratingpad --port PORT``: light the evaluation pad once and print the answer.

A technician's check that the pad, its cable and its port work: the output is one JSON line,
``{"level": 4, "label_zh": "满意", "label_en": "Satisfied"}`` or ``{"timeout": true}``.
Exit status 1 with a message when no pad answers on the port.
"""

from __future__ import annotations

import argparse
import json
import queue
import time

from kiosk.errors import DeviceNotFoundError, DeviceTimeoutError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ratingpad", help="prompt the evaluation pad once and print the rating as JSON"
    )
    p.add_argument("--port", required=True, help="serial port of the pad, e.g. /dev/ttyS1")
    p.add_argument("--baud", type=int, default=9600)
    p.add_argument(
        "--timeout", type=float, default=60.0, help="seconds the pad stays lit (default 60)"
    )
    p.add_argument(
        "--connect-timeout",
        type=float,
        default=3.0,
        help="seconds to wait for the pad to answer (default 3)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kiosk.hardware.base import DeviceEvent, DeviceStatus, EventKind
    from kiosk.hardware.ratingpad import HOST_TIMEOUT_GRACE_S, LEVEL_LABELS, SerialRatingPad

    if args.timeout <= 0:
        raise SystemExit("kiosk device ratingpad: --timeout must be > 0")
    events: queue.Queue[DeviceEvent] = queue.Queue()
    pad = SerialRatingPad(args.port, baud=args.baud, heartbeat_s=1.0)
    pad.start(events.put)
    try:
        deadline = time.monotonic() + args.connect_timeout
        while pad.status() is not DeviceStatus.ONLINE:
            if time.monotonic() >= deadline:
                why = pad.last_error() or f"status {pad.status()}"
                raise DeviceNotFoundError(f"no rating pad answers on {args.port}: {why}")
            time.sleep(0.01)
        pad.prompt(args.timeout)
        # the driver itself reports RATING_TIMEOUT at the deadline; this only guards a hang
        deadline = time.monotonic() + args.timeout + HOST_TIMEOUT_GRACE_S + 5
        while True:
            try:
                event = events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise DeviceTimeoutError(
                    f"the rating pad on {args.port} stopped answering"
                ) from None
            if event.kind is EventKind.RATING:
                zh, en = LEVEL_LABELS[event.payload]
                result: dict[str, object] = {"level": event.payload, "label_zh": zh, "label_en": en}
                break
            if event.kind is EventKind.RATING_TIMEOUT:
                result = {"timeout": True}
                break
        print(json.dumps(result, ensure_ascii=False), flush=True)
        return 0
    finally:
        pad.stop()
