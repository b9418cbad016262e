"""``kiosk journey``: run resident journeys without a window (simulated devices, reference backend)."""

from __future__ import annotations

import argparse
import json
import logging
import time

from kiosk.config import load_config


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("journey", help="run scripted resident journeys without a window")
    p.add_argument("--config", help="config file (default config/kiosk.toml)")
    p.add_argument("--resident", default="wang_jianguo", help="demo resident key (see kiosk/sim/demo_data.py)")
    p.add_argument("--rate", type=int, default=4, choices=[1, 2, 3, 4, 5], help="the rating to give")
    p.add_argument("--count", type=int, default=1, help="how many journeys to run")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kiosk.bootstrap import bootstrap, ensure_secret
    from kiosk.commands.demo import simulated, start_reference_backend
    from kiosk.tours.scripted import ScriptedKiosk

    logging.basicConfig(level=logging.WARNING)
    config = load_config(args.config)
    secret = ensure_secret(config)
    backend, url = start_reference_backend(config, secret)
    try:
        with ScriptedKiosk(bootstrap(simulated(config, url))) as kiosk:
            for _ in range(args.count):
                started = time.perf_counter()
                reasons = ("slow",) if args.rate <= 2 else ()
                result = kiosk.certificate(args.resident, args.rate, reasons)
                result["seconds"] = round(time.perf_counter() - started, 3)
                print(json.dumps(result, ensure_ascii=False), flush=True)
            kiosk.kiosk.delivery.flush(15.0)
            print(json.dumps({"outbox": kiosk.kiosk.outbox.stats(),
                              "backend_ratings": len(backend.received("rating"))}, ensure_ascii=False))
    finally:
        backend.stop()
    return 0
