"""``kiosk set-admin-pin`` and ``kiosk admin diagnostics|audit``: the technician's side on a shell.

``set-admin-pin`` asks for the PIN twice (or reads one line with ``--pin-stdin`` for
provisioning scripts), hashes it with scrypt and writes ``admin.pin_hash`` into the config
file with tomlkit, so the file's comments and layout stay as they were. The PIN itself is
never printed or logged. ``admin diagnostics --out DIR`` writes the same bundle as the admin
screen (device status reads "not started": the command does not take the devices from a
running kiosk). ``admin audit`` prints the recent audit trail. Every one of them is audited.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import tempfile
from pathlib import Path

from kiosk.errors import ConfigError, KioskError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("set-admin-pin", help="set the technicians' PIN (6-8 digits) in the config file")
    p.add_argument("--config", help="config file (default: config/kiosk.toml or $KIOSK_CONFIG)")
    p.add_argument("--pin-stdin", action="store_true", help="read the PIN from one line of stdin (scripts)")
    p.set_defaults(func=set_admin_pin)

    a = sub.add_parser("admin", help="technician tools: diagnostics bundle, audit trail")
    asub = a.add_subparsers(dest="admin_command", metavar="ACTION", required=True)
    d = asub.add_parser("diagnostics", help="write the diagnostics bundle (no personal data)")
    d.add_argument("--config", help="config file (default: config/kiosk.toml or $KIOSK_CONFIG)")
    d.add_argument("--out", type=Path, required=True, help="folder to write the .zip into")
    d.set_defaults(func=diagnostics)
    t = asub.add_parser("audit", help="print the recent audit trail as JSON")
    t.add_argument("--config", help="config file (default: config/kiosk.toml or $KIOSK_CONFIG)")
    t.add_argument("-n", type=int, default=50, help="how many rows (default 50)")
    t.set_defaults(func=audit)


def _config_path(arg: str | None) -> Path:
    from kiosk.config import DEFAULT_PATH

    return Path(arg) if arg else Path(os.environ.get("KIOSK_CONFIG", DEFAULT_PATH))


def _read_pin(from_stdin: bool) -> str:
    from kiosk.admin.pin import PIN_PATTERN

    if from_stdin:
        pin = sys.stdin.readline().strip()
    else:
        pin = getpass.getpass("New admin PIN (6-8 digits): ")
        if getpass.getpass("Repeat the PIN: ") != pin:
            raise KioskError("the two PINs differ; nothing was changed")
    if not PIN_PATTERN.fullmatch(pin):
        raise KioskError("a PIN has 6 to 8 digits (0-9); nothing was changed")
    return pin


def write_pin_hash(path: Path, pin_hash: str) -> None:
    """Set ``admin.pin_hash`` in a TOML file, keeping its comments and layout; atomic."""
    import tomlkit

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror}") from None
    try:
        doc = tomlkit.parse(text)
    except tomlkit.exceptions.TOMLKitError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    if "admin" not in doc:
        doc["admin"] = tomlkit.table()
    doc["admin"]["pin_hash"] = pin_hash
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(tomlkit.dumps(doc))
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)  # a power cut leaves the old file or the new one, never half
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _audit_from_shell(config, action: str, detail: str) -> None:
    from kiosk.admin.audit import Audit
    from kiosk.store.outbox import Outbox

    outbox = Outbox(config.data_dir / "outbox.sqlite3")  # the file bootstrap uses
    try:
        Audit(outbox, config.terminal.id, actor="shell").record(action, detail)
    finally:
        outbox.close()


def set_admin_pin(args: argparse.Namespace) -> int:
    from kiosk.admin.pin import hash_pin
    from kiosk.config import load_config

    path = _config_path(args.config)
    pin = _read_pin(args.pin_stdin)
    write_pin_hash(path, hash_pin(pin))
    print(f"admin PIN set in {path}")
    try:
        config = load_config(path)
    except ConfigError as e:
        print(f"kiosk: warning: the PIN was written but the file does not validate:\n{e}", file=sys.stderr)
        return 1
    _audit_from_shell(config, "pin_set", "admin PIN changed with kiosk set-admin-pin")
    print("restart the kiosk to use it")
    return 0


def diagnostics(args: argparse.Namespace) -> int:
    from kiosk.admin.actions import AdminActions
    from kiosk.bootstrap import bootstrap
    from kiosk.config import load_config

    config = load_config(args.config)
    args.out.mkdir(parents=True, exist_ok=True)
    kiosk = bootstrap(config)
    try:
        path = AdminActions(kiosk).export_diagnostics(args.out)
    finally:
        kiosk.backend.close()
        kiosk.outbox.close()
    print(path)
    return 0


def audit(args: argparse.Namespace) -> int:
    from kiosk.admin.audit import Audit
    from kiosk.config import load_config
    from kiosk.store.outbox import Outbox

    config = load_config(args.config)
    outbox = Outbox(config.data_dir / "outbox.sqlite3")
    try:
        rows = Audit(outbox, config.terminal.id).recent(args.n)
    finally:
        outbox.close()
    print(json.dumps(rows, ensure_ascii=False, indent=2))
    return 0
