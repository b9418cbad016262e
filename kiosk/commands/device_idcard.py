"""``kiosk device idcard``: wait for an ID card on a reader port, read it once, print JSON.

For technicians checking a reader on site. Personal data is masked unless ``--reveal`` is
given; a timeout or a protocol error exits non-zero with the reason on stderr.
"""

from __future__ import annotations

import argparse
import json
import time

from kiosk.identity import Identity, mask_name, nation_name

BAUDS = (9600, 19200, 38400, 57600, 115200)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("idcard", help="read one ID card from a SAM reader and print it as JSON")
    p.add_argument("--port", required=True, help="serial port, e.g. /dev/ttyUSB0")
    p.add_argument("--baud", type=int, default=115200, choices=BAUDS, help="line speed (default 115200)")
    p.add_argument("--timeout", type=float, default=10.0, metavar="S", help="seconds to wait for a card (default 10)")
    p.add_argument("--reveal", action="store_true", help="print the full name, ID number and address")
    p.set_defaults(func=run)


def identity_json(identity: Identity, *, reveal: bool = False) -> dict[str, object]:
    """The printable view of an identity; masked unless ``reveal``."""

    def date(d: object) -> str | None:
        return d.isoformat() if d is not None else None  # type: ignore[attr-defined]

    address = identity.address
    if not reveal and address:
        address = address[:6] + "*" * max(0, len(address) - 6)
    out: dict[str, object] = {
        "card_type": identity.card_type.value,
        "name": identity.name if reveal else identity.masked_name,
        "sex": identity.sex.value,
        "sex_label": identity.sex.label_zh,
        "birth_date": date(identity.birth_date),
        "id_number": identity.id_number if reveal else identity.masked_id,
        "nation": identity.nation,
        "nation_name": nation_name(identity.nation) if identity.nation else "",
        "address": address,
        "authority": identity.authority,
        "valid_from": date(identity.valid_from),
        "valid_to": "长期" if identity.long_term else date(identity.valid_to),
        "expired": identity.is_expired(),
    }
    if identity.english_name:
        out["english_name"] = identity.english_name if reveal else mask_name(identity.english_name)
    if identity.nationality:
        out["nationality"] = identity.nationality
    if reveal and identity.extra:
        out["extra"] = dict(identity.extra)
    return out


def run(args: argparse.Namespace) -> int:
    from kiosk.hardware.idcard import SerialIdCardReader

    reader = SerialIdCardReader(args.port, baud=args.baud)
    started = time.monotonic()
    identity = reader.read_once(args.timeout)  # KioskError -> message and exit 1 in kiosk.cli
    out = identity_json(identity, reveal=args.reveal)
    out["read_s"] = round(time.monotonic() - started, 3)
    print(json.dumps(out, ensure_ascii=False))
    return 0
