"""``kiosk outbox status|flush|set-aside``: what is waiting to reach the backend, a forced
send, and starting afresh after a loss.

``status`` prints JSON (depth, oldest age, failed count, last error, the data dir's free space)
and reads only; it is safe while the kiosk runs. An outbox that had rows and is now missing,
empty or unreadable is an error: one line saying so, exit 1. ``flush`` delivers what is queued
now, ignoring back-off, and exits 0 when nothing is left, 1 when rows remain (backend
unreachable, or still in the kiosk's hands). ``set-aside`` moves a lost outbox and its
high-water note aside (kept, renamed, for recovery) so the next start begins an empty one.
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
    a = osub.add_parser("set-aside", help="move a lost or damaged outbox aside (kept) to start an empty one")
    a.add_argument("--config", help="config file (default: config/kiosk.toml or $KIOSK_CONFIG)")
    a.set_defaults(func=set_aside)


def status(args: argparse.Namespace) -> int:
    from kiosk.config import load_config

    cfg = load_config(args.config)
    ob = _open(cfg)
    try:
        if ob.lost is not None:
            raise ob.lost  # one line, exit 1 (kiosk.cli): never an empty outbox in silence
        s = ob.stats()
        s["storage"] = ob.state().as_dict()
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
    from kiosk.backend.uploads import senders
    from kiosk.config import load_config
    from kiosk.store.applications import Applications

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
    ob = _open(cfg)
    try:
        if ob.lost is not None:
            raise ob.lost
        # applications are uploaded from the vault in chunks (kiosk.backend.uploads)
        applications = Applications(ob, cfg.data_dir / "vault", cfg.terminal_secret())
        worker = DeliveryWorker(ob, client, senders=senders(applications, client))
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


def _open(cfg):
    from kiosk.store.outbox import Outbox

    return Outbox(cfg.data_dir / OUTBOX_FILE, min_free_bytes=cfg.storage.min_free_mb * 1024 * 1024)


def set_aside(args: argparse.Namespace) -> int:
    import time

    from kiosk.config import load_config
    from kiosk.errors import KioskError, StoreFullError
    from kiosk.store.outbox import Outbox

    cfg = load_config(args.config)
    path = cfg.data_dir / OUTBOX_FILE
    ob = Outbox(path)
    try:
        if ob.lost is None:
            raise KioskError(f"{path}: the outbox is readable and whole; nothing to set aside")
        if isinstance(ob.lost, StoreFullError):
            raise KioskError(f"{path}: the disk is full, the outbox is not lost; free some space instead")
        if not ob.try_lock_worker():
            raise KioskError(f"{path}: the kiosk is running; stop it first")
        stamp = time.strftime("%Y%m%d-%H%M%S")
        moved = []
        for suffix in ("", "-wal", "-shm", ".mark"):
            part = path.with_name(path.name + suffix)
            if part.exists() or part.is_symlink():
                target = part.with_name(f"{part.name}.lost-{stamp}")
                part.rename(target)
                moved.append(str(target))
    finally:
        ob.close()
    print(json.dumps({"set_aside": moved, "reason": str(ob.lost)}, ensure_ascii=False, indent=2))
    return 0
