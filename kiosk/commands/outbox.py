"""``kiosk outbox status|flush``: what is waiting to reach the backend, and a forced send.

``status`` prints JSON (depth, oldest age, failed count, last error) and reads only; it is safe
while the kiosk runs. ``flush`` delivers what is queued now, ignoring back-off, and exits 0 when
nothing is left, 1 when rows remain (backend unreachable, or still in the kiosk's hands).
"""

from __future__ import annotations

import argparse
import json

OUTBOX_FILE = "outbox.sqlite3"  # the file kiosk.bootstrap opens


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("outbox", help="the store-and-forward queue to the backend")
    osub = p.add_subparsers(dest="outbox_command", metavar="ACTION", required=True)
    s = osub.add_parser("status", help="print the outbox state as JSON")
    s.add_argument("--config", help="config file (default: config/kiosk.toml or $KIOSK_CONFIG)")
    s.add_argument("--failed", action="store_true", help="also list the rows the backend refused")
    s.set_defaults(func=status)
    f = osub.add_parser("flush", help="deliver everything queued now")
    f.add_argument("--config", help="config file (default: config/kiosk.toml or $KIOSK_CONFIG)")
    f.add_argument(
        "--timeout", type=float, default=30.0, help="give up after this many seconds (default 30)"
    )
    f.set_defaults(func=flush)


def status(args: argparse.Namespace) -> int:
    from kiosk.config import load_config
    from kiosk.store.outbox import Outbox

    cfg = load_config(args.config)
    ob = Outbox(cfg.data_dir / OUTBOX_FILE)
    try:
        s = ob.stats()
        if args.failed:
            # payloads hold masked data only (see kiosk.store.journal), except a help request's
            # phone, which is masked here
            s["failed_rows"] = [_shown(r) for r in ob.items("failed", limit=1000)]
    finally:
        ob.close()
    print(json.dumps({"path": str(cfg.data_dir / OUTBOX_FILE)} | s, ensure_ascii=False, indent=2))
    return 0


def _shown(row: dict) -> dict:
    from kiosk.identity import mask_phone

    payload = dict(row["payload"])
    if "phone" in payload:
        payload["phone"] = mask_phone(str(payload["phone"]))
    return {
        "key": row["key"],
        "kind": row["kind"],
        "attempts": row["attempts"],
        "last_error": row["last_error"],
        "payload": payload,
    }


def flush(args: argparse.Namespace) -> int:
    from kiosk.backend.client import BackendClient
    from kiosk.backend.delivery import DeliveryWorker
    from kiosk.config import load_config
    from kiosk.store.outbox import Outbox

    cfg = load_config(args.config)
    b = cfg.backend
    client = BackendClient(
        b.url,
        cfg.terminal.id,
        cfg.terminal_secret(),
        ca_bundle=cfg.resolve(b.ca_bundle) if b.ca_bundle else None,
        connect_timeout=b.connect_timeout_s,
        read_timeout=b.read_timeout_s,
    )
    ob = Outbox(cfg.data_dir / OUTBOX_FILE)
    try:
        worker = DeliveryWorker(ob, client)
        before = ob.depth()
        left = worker.flush(args.timeout)
        s = ob.stats()
    finally:
        ob.close()
        client.close()
    print(
        json.dumps(
            {
                "before": before,
                "delivered": worker.delivered,
                "left": left,
                "failed": s["failed"],
                "last_error": worker.last_error or s["last_error"],
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    return 0 if left == 0 else 1
