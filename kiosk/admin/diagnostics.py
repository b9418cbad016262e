"""The diagnostics bundle a technician takes away on a USB stick, and what goes into it.

A .zip holding the device status, paper, outbox and storage figures (free space, whether
the store takes writes, matters a crash cut short), the recent (scrubbed) log
lines, the recent audit trail and the effective config with secrets hidden. Never the
journal, never outbox payloads: those hold (masked) residents' data, and the bundle leaves
the building. It is written under a temporary name and renamed, so a stick pulled out
mid-write never holds a half bundle under the final name.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
import zipfile
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk import __version__
from kiosk.admin.audit import scrub
from kiosk.admin.logs import recent_lines
from kiosk.errors import StoreError

if TYPE_CHECKING:
    from kiosk.admin.actions import AdminActions
    from kiosk.config import KioskConfig

HIDDEN = "(hidden)"
#: config keys whose values are secrets (the backend secret itself is never in the config)
SECRET_KEYS = ("pin_hash", "password", "token", "secret_value")


def redacted_config(config: KioskConfig) -> dict[str, Any]:
    data = config.model_dump(mode="json")

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if any(s in key for s in SECRET_KEYS):
                    out[key] = HIDDEN if value else "(not set)"
                else:
                    out[key] = walk(value)
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(data)


def version_info() -> dict[str, str]:
    return {
        "kiosk": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
    }


def bundle_contents(actions: AdminActions) -> dict[str, str]:
    """File name -> text of everything the bundle holds."""
    kiosk = actions.kiosk
    cfg = kiosk.config
    log_file = cfg.resolve(cfg.logging.file) if cfg.logging.file else None
    status = {
        "terminal": cfg.terminal.id,
        "written_at": dt.datetime.fromtimestamp(actions.now()).astimezone().isoformat(timespec="seconds"),
        "version": version_info(),
        "in_service": not kiosk.journey.maintenance,
        "closed_reason": (kiosk.journey.closed_reason() or ("", ""))[1],
        "backend_online": bool(getattr(kiosk.delivery, "online", True)),
        "devices": [asdict(row) | {"since_text": row.since_text} for row in actions.devices()],
        "paper": asdict(actions.paper()),
        "outbox": actions.outbox(),
        "storage": actions.storage(),
    }
    try:
        audit = [{k: row[k] for k in ("action", "detail", "result", "at")} for row in actions.audit.recent(200)]
    except StoreError as e:  # the bundle is most needed when the store has failed
        audit = [{"action": "(audit trail unreadable)", "detail": scrub(str(e)), "result": "failed", "at": None}]
    lines = recent_lines(log_file, 2000)
    return {
        "status.json": json.dumps(status, ensure_ascii=False, indent=2, default=str),
        "config.json": json.dumps(redacted_config(cfg), ensure_ascii=False, indent=2),
        "audit.json": json.dumps(audit, ensure_ascii=False, indent=2),
        "logs.txt": "\n".join(scrub(line) for line in lines) + "\n",
        "README.txt": (
            f"Diagnostics of terminal {cfg.terminal.id}, kiosk {__version__}.\n"
            "No personal data: no journal, no outbox payloads; log lines are scrubbed.\n"
        ),
    }


def write_bundle(actions: AdminActions, target: Path) -> Path:
    stamp = dt.datetime.fromtimestamp(actions.now()).strftime("%Y%m%d-%H%M%S")
    final = target / f"kiosk-diagnostics-{actions.kiosk.config.terminal.id}-{stamp}.zip"
    partial = final.with_suffix(".zip.part")
    contents = bundle_contents(actions)
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, text in contents.items():
                zf.writestr(name, text)
        with partial.open("rb") as f:
            os.fsync(f.fileno())  # a stick pulled right after "done" must still hold it
        partial.replace(final)
    finally:
        partial.unlink(missing_ok=True)
    return final
