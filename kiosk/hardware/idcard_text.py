"""The 256-byte text block of a 二代证-family card: parse it into an ``Identity`` and build it back.

The block is UCS-2 little-endian, space padded; the flag at bytes 248-249 says which layout it
has: resident ID card (space or NUL), ``J`` HK/Macao/Taiwan residence permit, ``I`` foreigner
permanent residence card (2017), ``Y`` foreigner permanent residence card (2023). Text is
decoded as UTF-16 so that rare name characters outside the BMP (surrogate pairs) survive.

The 1,024-byte WLT photo is vendor-encrypted; a licensed decoder can be plugged in through
``PhotoDecoder``. Nothing here needs one.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from kiosk.errors import CardError
from kiosk.identity import CardType, Identity, Sex, is_valid_id_number, mask_id_number

TEXT_LEN = 256
LONG_TERM = "长期"
_PAD = " \x00"


class CardDataError(CardError):
    """The card's text block does not follow its layout (bad date, code, check digit...)."""

    message_zh = "证件信息无法识别，请联系工作人员"
    message_en = "The card's data cannot be recognised, please ask staff for help"
    retryable = False


class PhotoDecoder(Protocol):
    """A vendor's WLT decoder (licensed, not shipped): 1,024 WLT bytes -> a 102x126 BMP."""

    def decode(self, wlt: bytes) -> bytes: ...


# (field, byte length) in order; "_" fields are reserved and skipped
_LAYOUTS: dict[CardType, tuple[tuple[str, int], ...]] = {
    CardType.RESIDENT: (
        ("name", 30), ("sex", 2), ("nation", 4), ("birth", 16), ("address", 70),
        ("id_number", 36), ("authority", 30), ("valid_from", 16), ("valid_to", 16),
        ("_r1", 28), ("flag", 2), ("_r2", 6),
    ),
    CardType.HMT_PERMIT: (
        ("name", 30), ("sex", 2), ("_nation", 4), ("birth", 16), ("address", 70),
        ("id_number", 36), ("authority", 30), ("valid_from", 16), ("valid_to", 16),
        ("permit_number", 18), ("issue_count", 4), ("_r1", 6), ("flag", 2), ("_r2", 6),
    ),
    CardType.FOREIGN_PERMANENT: (
        ("english_name", 120), ("sex", 2), ("id_number", 30), ("nationality", 6),
        ("name", 30), ("valid_from", 16), ("valid_to", 16), ("birth", 16), ("version", 4),
        ("authority", 8), ("flag", 2), ("_r1", 6),
    ),
    CardType.FOREIGN_PERMANENT_2023: (
        ("name", 30), ("sex", 2), ("renewal_count", 4), ("birth", 16), ("english_name_1", 70),
        ("id_number", 36), ("_r1", 30), ("valid_from", 16), ("valid_to", 16),
        ("english_name_2", 22), ("nationality", 6), ("flag", 2), ("old_number_link", 6),
    ),
}
_FLAGS: dict[str, CardType] = {
    " ": CardType.RESIDENT,
    "\x00": CardType.RESIDENT,
    "J": CardType.HMT_PERMIT,
    "I": CardType.FOREIGN_PERMANENT,
    "Y": CardType.FOREIGN_PERMANENT_2023,
}
_FLAG_OF = {
    CardType.RESIDENT: " ",
    CardType.HMT_PERMIT: "J",
    CardType.FOREIGN_PERMANENT: "I",
    CardType.FOREIGN_PERMANENT_2023: "Y",
}
_FOREIGN_2017_NUMBER = re.compile(r"^[A-Z]{3}\d{12}$")
_NATION = re.compile(r"^\d{2}$")
_NATIONALITY = re.compile(r"^[A-Z]{3}$")

for _layout in _LAYOUTS.values():
    assert sum(n for _, n in _layout) == TEXT_LEN


@dataclass(frozen=True)
class CardRead:
    """One card read: the identity, the raw WLT photo and the decoded photo if a decoder ran."""

    identity: Identity
    wlt: bytes = b""
    photo: bytes | None = None

    def __repr__(self) -> str:
        return f"CardRead({self.identity!r}, wlt={len(self.wlt)} bytes)"


def card_type_of(block: bytes) -> CardType:
    if len(block) != TEXT_LEN:
        raise CardDataError(f"text block is {len(block)} bytes, expected {TEXT_LEN}")
    flag = block[248:250]
    kind = _FLAGS.get(chr(flag[0])) if flag[1] == 0 else None
    if kind is None:
        raise CardDataError(f"unknown card type flag {flag.hex(' ')}")
    return kind


def _split(block: bytes, kind: CardType) -> dict[str, str]:
    fields: dict[str, str] = {}
    at = 0
    for name, size in _LAYOUTS[kind]:
        raw = block[at : at + size]
        at += size
        if name.startswith("_"):
            continue
        try:
            fields[name] = raw.decode("utf-16-le").strip(_PAD)
        except UnicodeDecodeError:
            raise CardDataError(f"field {name} is not valid UCS-2/UTF-16") from None
    return fields


def _date(value: str, field: str) -> dt.date | None:
    if not value:
        return None
    if len(value) != 8 or not value.isascii() or not value.isdigit():
        raise CardDataError(f"field {field} is not a YYYYMMDD date")
    try:
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise CardDataError(f"field {field} is not a real date") from None


def _sex(value: str) -> Sex:
    try:
        return Sex(value or "0")
    except ValueError:
        raise CardDataError("field sex is not one of 0, 1, 2, 9") from None


def _check_id(number: str, kind: CardType) -> str:
    number = number.upper()
    if kind == CardType.FOREIGN_PERMANENT:
        # the 2017 card's 15-character number has no published check digit: check its shape
        if not _FOREIGN_2017_NUMBER.match(number):
            raise CardDataError(
                f"{kind.value}: number {mask_id_number(number)} is not 3 letters and 12 digits"
            )
        return number
    if not is_valid_id_number(number):
        raise CardDataError(
            f"{kind.value}: ID number {mask_id_number(number)} has a wrong check digit or birth date"
        )
    return number


def parse_text_block(block: bytes) -> Identity:
    """A 256-byte text block -> ``Identity``; raises ``CardDataError`` if it is not one."""
    kind = card_type_of(block)
    f = _split(block, kind)
    valid_to_text = f["valid_to"]
    long_term = valid_to_text == LONG_TERM
    extra: dict[str, str] = {}
    nation = ""
    english_name = ""
    nationality = ""
    if kind == CardType.RESIDENT:
        nation = f["nation"]
        if nation and not _NATION.match(nation):
            raise CardDataError("field nation is not a two-digit code")
    elif kind == CardType.HMT_PERMIT:
        extra = {"permit_number": f["permit_number"], "issue_count": f["issue_count"]}
    elif kind == CardType.FOREIGN_PERMANENT:
        english_name, nationality = f["english_name"], f["nationality"]
        extra = {"card_version": f["version"]}
    else:
        # part 1 is full whenever part 2 is used, so joining unstripped keeps inner spaces
        raw = block[52:122] + block[220:242]  # both parts already decoded cleanly above
        english_name = raw.decode("utf-16-le").strip(_PAD)
        nationality = f["nationality"]
        extra = {"renewal_count": f["renewal_count"], "old_number_link": f["old_number_link"]}
    if nationality and not _NATIONALITY.match(nationality):
        raise CardDataError("field nationality is not a 3-letter country code")
    name = f["name"] or english_name
    if not name:
        raise CardDataError(f"{kind.value}: the name field is empty")
    return Identity(
        card_type=kind,
        name=name,
        id_number=_check_id(f["id_number"], kind),
        sex=_sex(f["sex"]),
        birth_date=_date(f["birth"], "birth"),
        nation=nation,
        address=f.get("address", ""),
        authority=f.get("authority", ""),
        valid_from=_date(f["valid_from"], "valid_from"),
        valid_to=None if long_term else _date(valid_to_text, "valid_to"),
        long_term=long_term,
        english_name=english_name,
        nationality=nationality,
        extra={k: v for k, v in extra.items() if v},
    )


def parse_card(
    text: bytes, wlt: bytes = b"", photo_decoder: PhotoDecoder | None = None
) -> CardRead:
    """Text block and WLT photo -> ``CardRead``. The decoder is optional; if it fails, the
    read still succeeds without a decoded photo (the photo is never required)."""
    identity = parse_text_block(text)
    photo = None
    if photo_decoder is not None and wlt:
        try:
            photo = photo_decoder.decode(wlt)
        except Exception:  # noqa: BLE001 - a vendor plug-in must not break a card read
            photo = None
    return CardRead(identity, bytes(wlt), photo)


# --- the inverse, for the emulator and the tests -------------------------------------------


def _put(value: str, size: int, name: str) -> bytes:
    raw = value.encode("utf-16-le")
    if len(raw) > size:
        raise ValueError(f"field {name}: {len(raw)} bytes do not fit in {size}")
    return raw + " ".encode("utf-16-le") * ((size - len(raw)) // 2)


def _ymd(value: dt.date | None) -> str:
    return value.strftime("%Y%m%d") if value else ""


def encode_text_block(identity: Identity) -> bytes:
    """``Identity`` -> the 256-byte text block its card type carries (inverse of parsing)."""
    kind = identity.card_type
    if kind not in _LAYOUTS:
        raise ValueError(f"{kind.value} cards have no ID-card text block")
    english = identity.english_name
    values: Mapping[str, str] = {
        "name": identity.name if kind != CardType.FOREIGN_PERMANENT or identity.name != english else "",
        "sex": identity.sex.value,
        "nation": identity.nation,
        "birth": _ymd(identity.birth_date),
        "address": identity.address,
        "id_number": identity.id_number,
        "authority": identity.authority,
        "valid_from": _ymd(identity.valid_from),
        "valid_to": LONG_TERM if identity.long_term else _ymd(identity.valid_to),
        "flag": _FLAG_OF[kind],
        "english_name": english,
        "english_name_1": english[:35],
        "english_name_2": english[35:],
        "nationality": identity.nationality,
        "version": identity.extra.get("card_version", ""),
        "permit_number": identity.extra.get("permit_number", ""),
        "issue_count": identity.extra.get("issue_count", ""),
        "renewal_count": identity.extra.get("renewal_count", ""),
        "old_number_link": identity.extra.get("old_number_link", ""),
    }
    out = b"".join(
        b"\x00" * size if name.startswith("_") else _put(values[name], size, name)
        for name, size in _LAYOUTS[kind]
    )
    assert len(out) == TEXT_LEN
    return out
