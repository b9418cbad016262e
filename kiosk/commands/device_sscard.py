"""``kiosk device sscard``: wait for a social-security card on a PC/SC reader, read it, print JSON.

For technicians checking a reader on site. The card number, ID number and name are masked
unless ``--reveal`` is given. No reader, no pcscd, a timeout or a card error exit non-zero
with the reason on stderr (``kiosk.cli`` prints every ``KioskError``).
"""

from __future__ import annotations

import argparse
import json
import time

from kiosk.identity import SocialSecurityCard, nation_name


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sscard", help="read one social-security card over PC/SC and print it as JSON"
    )
    p.add_argument(
        "--reader",
        default="",
        metavar="NAME",
        help="part of the reader's name (default: the first reader)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds to wait for a card (default 10)",
    )
    p.add_argument(
        "--reveal", action="store_true", help="print the full card number, ID number and name"
    )
    p.set_defaults(func=run)


def card_json(card: SocialSecurityCard, *, reveal: bool = False) -> dict[str, object]:
    """The printable view of a card; masked unless ``reveal``."""
    identity = card.identity

    def date(d: object) -> str | None:
        return d.isoformat() if d is not None else None  # type: ignore[attr-defined]

    out: dict[str, object] = {
        "card_number": card.card_number if reveal else card.masked_card_number,
        "id_number": identity.id_number if reveal else identity.masked_id,
        "name": identity.name if reveal else identity.masked_name,
        "sex": identity.sex.value,
        "sex_label": identity.sex.label_zh,
        "nation": identity.nation,
        "nation_name": nation_name(identity.nation) if identity.nation else "",
        "issue_date": date(card.issue_date),
        "expiry_date": date(card.expiry_date),
        "issuer": card.issuer,
        "version": card.version,
    }
    if reveal:  # the birth date is the middle of the ID number that masking hides
        out["birth_date"] = date(identity.birth_date)
    return out


def run(args: argparse.Namespace) -> int:
    from kiosk.hardware.sscard import SocialSecurityCardReader
    from kiosk.hardware.sscard_pcsc import PcscTransport

    reader = SocialSecurityCardReader(PcscTransport(args.reader))
    started = time.monotonic()
    card = reader.read_once(args.timeout)  # KioskError -> message and exit 1 in kiosk.cli
    out = card_json(card, reveal=args.reveal)
    out["reader"] = reader.transport.reader_name
    out["read_s"] = round(time.monotonic() - started, 3)
    print(json.dumps(out, ensure_ascii=False))
    return 0
