"""The social-security card (社会保障卡) on the wire: APDUs, status words, records, parsing.

Pure logic with no I/O. Everything that talks to a card goes through a ``transmit`` callable
with pyscard's shape, ``transmit(apdu: list[int]) -> (data, sw1, sw2)``, so the same code runs
against pcscd, against the in-process virtual card and against a fake in unit tests.

Facts (docs/devices.md, "Social-security card"): the application is selected by the GBK name ``sx1.sh.社会保障``;
EF05 holds the card's own data (card number, issue and expiry dates) and EF06 the holder's
(社会保障号码 = ID number, name, sex, nation, birth date). Each record is one TLV whose tag
is the record number. T=0 cards answer 61xx (fetch with GET RESPONSE) or 6Cxx (resend with
the corrected Le); ``exchange`` hides both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence

from kiosk.errors import CardError, ProtocolError
from kiosk.identity import CardType, Identity, Sex, SocialSecurityCard, is_valid_id_number

Transmit = Callable[[list[int]], tuple[list[int], int, int]]

APP_NAME = "sx1.sh.社会保障"
APP_NAME_BYTES = APP_NAME.encode("gbk")
EF05 = 0xEF05  # card identification: card id, type, version, issuer, dates, card number
EF06 = 0xEF06  # holder: 社会保障号码, name, sex, nation, birthplace, birth date

# record (= tag) numbers
TAG_CARD_ID, TAG_CARD_TYPE, TAG_VERSION, TAG_ISSUER = 0x01, 0x02, 0x03, 0x04
TAG_ISSUE_DATE, TAG_EXPIRY_DATE, TAG_CARD_NUMBER = 0x05, 0x06, 0x07
TAG_ID_NUMBER, TAG_NAME, TAG_SEX, TAG_NATION = 0x08, 0x09, 0x0A, 0x0B
TAG_BIRTHPLACE, TAG_BIRTH_DATE = 0x0C, 0x0D

EF05_RECORDS: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7)
EF06_RECORDS: tuple[int, ...] = (8, 9, 10, 11, 12, 13)
#: records the kiosk cannot do without; the others are skipped when the card lacks them
REQUIRED_RECORDS = frozenset({TAG_CARD_NUMBER, TAG_ID_NUMBER, TAG_NAME})

#: bound on the 61xx / 6Cxx dance, so a confused card cannot keep a read going forever
MAX_ROUNDS = 16
#: bound on the bytes one command may collect through GET RESPONSE
MAX_RESPONSE = 4096


# --- command builders ------------------------------------------------------------------------


def select_application(name: bytes = APP_NAME_BYTES) -> list[int]:
    """SELECT by DF name (P1=04); case 3, no Le: a T=0 card answers 61xx with its FCI."""
    return [0x00, 0xA4, 0x04, 0x00, len(name), *name]


def select_file(fid: int) -> list[int]:
    """SELECT an EF by its two-byte identifier under the current DF (P1=02)."""
    return [0x00, 0xA4, 0x02, 0x00, 0x02, (fid >> 8) & 0xFF, fid & 0xFF]


def read_record(record: int, le: int = 0, sfi: int = 0) -> list[int]:
    """READ RECORD ``record`` of the current EF (or of short file id ``sfi``); Le 0 = up to 256."""
    return [0x00, 0xB2, record & 0xFF, ((sfi & 0x1F) << 3) | 0x04, le & 0xFF]


def get_response(le: int) -> list[int]:
    return [0x00, 0xC0, 0x00, 0x00, le & 0xFF]


def with_le(apdu: Sequence[int], le: int) -> list[int]:
    """The same command with its Le set (added for case 1/3, replaced for case 2/4)."""
    apdu = list(apdu)
    if len(apdu) == 4:  # case 1
        return [*apdu, le & 0xFF]
    if len(apdu) == 5:  # case 2: the fifth byte is Le
        return [*apdu[:4], le & 0xFF]
    lc = apdu[4]
    if len(apdu) == 5 + lc:  # case 3
        return [*apdu, le & 0xFF]
    return [*apdu[: 5 + lc], le & 0xFF]  # case 4


# --- status words --------------------------------------------------------------------------


class CardStatusError(CardError):
    """The card answered a status word other than 9000."""

    sw: int = 0

    def __init__(self, sw: int, message: str = "") -> None:
        name = _SW_TEXT.get(sw) or _SW_TEXT.get(sw & 0xFF00, "unknown status")
        super().__init__(message or f"card answered SW {sw:04X} ({name})", code=f"SW{sw:04X}")
        self.sw = sw


class WrongLengthError(CardStatusError):
    """6700: the command's length is wrong for this card."""


class SecurityStatusError(CardStatusError):
    """6982: the record needs a PIN or PSAM authentication the kiosk does not do."""

    message_zh = "此卡需要验证后才能读取，请到窗口办理"
    message_en = "This card needs verification first, please go to a service window"


class CardBlockedError(CardStatusError):
    """6983 / 6984 / 6283: the card, its key or the file is blocked or invalidated."""

    message_zh = "此卡已锁定或失效，请到窗口办理"
    message_en = "This card is blocked or no longer valid, please go to a service window"
    retryable = False


class ConditionsNotSatisfiedError(CardStatusError):
    """6985 / 6986: the command is not allowed in the card's current state."""


class FileNotFoundOnCardError(CardStatusError):
    """6A82: the application or file is not on the card: not a 社会保障卡, or damaged."""

    message_zh = "无法识别此卡，请确认是社会保障卡后重新插入"
    message_en = "This card is not recognised, please check it is a social security card"
    retryable = False


class RecordNotFoundError(CardStatusError):
    """6A83 / 6A88: the record is not in the file."""


class WrongParametersError(CardStatusError):
    """6A81 / 6A86 / 6B00: the card does not support these parameters."""


class UnsupportedCommandError(CardStatusError):
    """6D00 / 6E00: the card does not know the instruction or the class."""


class CardMemoryError(CardStatusError):
    """65xx / 6F00: the card failed internally."""


class WrongPinError(CardStatusError):
    """63Cx: the PIN is wrong; ``tries_left`` (x) more wrong ones block it."""

    retryable = False

    @property
    def tries_left(self) -> int:
        return self.sw & 0x0F


class PinBlockedError(CardBlockedError):
    """6983 to VERIFY / CHANGE PIN: the PIN is blocked; only the card office can unblock it."""

    message_zh = "社会保障卡密码已锁定，请携带本人社会保障卡和有效身份证件到社保服务窗口办理解锁"
    message_en = "The card's PIN is blocked. Take the card and your ID card to a social insurance window to unblock it"


class CardDataError(CardError):
    """The card answered, but a record's content is not valid (bad date, bad check digit)."""

    retryable = False


_SW_TEXT: dict[int, str] = {
    0x6283: "selected file invalidated",
    0x6581: "memory failure",
    0x6700: "wrong length",
    0x6981: "command incompatible with file structure",
    0x6982: "security status not satisfied",
    0x6983: "authentication method blocked",
    0x6984: "referenced data invalidated",
    0x6985: "conditions of use not satisfied",
    0x6986: "command not allowed, no current EF",
    0x6A80: "incorrect data field",
    0x6A81: "function not supported",
    0x6A82: "file or application not found",
    0x6A83: "record not found",
    0x6A86: "incorrect P1 P2",
    0x6A88: "referenced data not found",
    0x6B00: "wrong parameters P1 P2",
    0x6D00: "instruction not supported",
    0x6E00: "class not supported",
    0x6F00: "no precise diagnosis",
    0x6200: "warning, memory unchanged",
    0x6300: "warning, memory changed",
    0x6400: "execution error, memory unchanged",
    0x6500: "execution error, memory changed",
    0x6900: "command not allowed",
    0x6A00: "wrong parameters",
}

#: exact status words first; ``sw_error`` falls back to the SW1 family, then the base class
SW_ERRORS: dict[int, type[CardStatusError]] = {
    0x6700: WrongLengthError,
    0x6982: SecurityStatusError,
    0x6983: CardBlockedError,
    0x6984: CardBlockedError,
    0x6283: CardBlockedError,
    0x6985: ConditionsNotSatisfiedError,
    0x6986: ConditionsNotSatisfiedError,
    0x6A82: FileNotFoundOnCardError,
    0x6A88: RecordNotFoundError,
    0x6A83: RecordNotFoundError,
    0x6A81: WrongParametersError,
    0x6A86: WrongParametersError,
    0x6B00: WrongParametersError,
    0x6D00: UnsupportedCommandError,
    0x6E00: UnsupportedCommandError,
    0x6F00: CardMemoryError,
    0x6581: CardMemoryError,
}
_SW1_ERRORS: dict[int, type[CardStatusError]] = {0x65: CardMemoryError, 0x6F: CardMemoryError}


def sw_error(sw1: int, sw2: int) -> CardStatusError:
    """The exception for a failing status word (never for 9000)."""
    sw = (sw1 << 8) | sw2
    if sw1 == 0x63 and sw2 & 0xF0 == 0xC0:
        return WrongPinError(sw, f"card answered SW {sw:04X} (wrong PIN, {sw2 & 0x0F} tries left)")
    cls = SW_ERRORS.get(sw) or _SW1_ERRORS.get(sw1) or CardStatusError
    return cls(sw)


def exchange(transmit: Transmit, apdu: Sequence[int]) -> bytes:
    """Send one command and return its data, following 61xx and 6Cxx; raise on any other SW.

    61xx: more data waits, fetch it with GET RESPONSE (Le = xx, 00 meaning 256) and append.
    6Cxx: the Le was wrong; the card wants the same command again with Le = xx.
    """
    # the caller's own list is sent (not a copy), so a PIN command can be overwritten afterwards
    command = apdu if isinstance(apdu, list) else list(apdu)
    data = bytearray()
    for _ in range(MAX_ROUNDS):
        resp, sw1, sw2 = transmit(command)
        data += bytes(resp)
        if len(data) > MAX_RESPONSE:
            raise ProtocolError(f"card sent more than {MAX_RESPONSE} bytes for one command")
        if sw1 == 0x90 and sw2 == 0x00:
            return bytes(data)
        if sw1 == 0x61:
            command = get_response(sw2)
        elif sw1 == 0x6C:
            if command[1] == 0xC0:  # wrong Le on GET RESPONSE: ask again for what remains
                command = get_response(sw2)
            else:
                command = with_le(apdu, sw2)
                data.clear()  # the resent command answers from the start
        else:
            raise sw_error(sw1, sw2)
    raise ProtocolError(f"card still asked for more after {MAX_ROUNDS} exchanges")


# --- the card's PIN (PBOC convention, which 社保卡 operating systems follow) ------------------

#: a 社保卡 PIN: six digits, sent packed as BCD (three bytes)
PIN_DIGITS = 6


def pin_bcd(pin: bytes | bytearray | str) -> bytearray:
    """Six PIN digits (ASCII) packed two to a byte: ``b"123456"`` -> ``12 34 56``. The caller
    owns the result and should overwrite it after use."""
    digits = pin.encode("ascii") if isinstance(pin, str) else bytes(pin)
    if len(digits) != PIN_DIGITS or not digits.isdigit():
        raise ValueError(f"a PIN is {PIN_DIGITS} digits")
    return bytearray(((digits[i] - 0x30) << 4) | (digits[i + 1] - 0x30) for i in range(0, PIN_DIGITS, 2))


def verify_pin(pin: bytes | bytearray | str) -> list[int]:
    """VERIFY: ``00 20 00 00 03 <PIN as 6 BCD digits>``. 9000 right; 63Cx wrong, x tries
    left; 6983 blocked."""
    packed = pin_bcd(pin)
    try:
        return [0x00, 0x20, 0x00, 0x00, len(packed), *packed]
    finally:
        packed[:] = bytes(len(packed))


def change_pin(old: bytes | bytearray | str, new: bytes | bytearray | str) -> list[int]:
    """CHANGE PIN: ``80 5E 01 00 07 <old> FF <new>``; the card checks the old PIN itself
    (63Cx / 6983 as for VERIFY) and then keeps the new one."""
    a, b = pin_bcd(old), pin_bcd(new)
    try:
        return [0x80, 0x5E, 0x01, 0x00, len(a) + 1 + len(b), *a, 0xFF, *b]
    finally:
        a[:] = bytes(len(a))
        b[:] = bytes(len(b))


def _pin_command(transmit: Transmit, apdu: list[int]) -> None:
    try:
        exchange(transmit, apdu)
    except CardBlockedError as e:
        if e.sw == 0x6983:
            raise PinBlockedError(e.sw) from None
        raise
    finally:
        apdu[:] = [0] * len(apdu)  # the PIN's bytes do not outlive the command


def check_pin(transmit: Transmit, pin: bytes | bytearray | str) -> None:
    """Select the application and VERIFY ``pin``; raises ``WrongPinError`` (with the tries
    left) or ``PinBlockedError``."""
    exchange(transmit, select_application())
    _pin_command(transmit, verify_pin(pin))


def change_card_pin(transmit: Transmit, old: bytes | bytearray | str, new: bytes | bytearray | str) -> None:
    """Select the application and CHANGE the PIN from ``old`` to ``new``."""
    exchange(transmit, select_application())
    _pin_command(transmit, change_pin(old, new))


# --- records -------------------------------------------------------------------------------


def parse_tlv(data: bytes) -> dict[int, bytes]:
    """One-byte tag, one-byte length, value; trailing 00/FF padding ends the list."""
    out: dict[int, bytes] = {}
    i = 0
    while i < len(data):
        tag = data[i]
        if tag in (0x00, 0xFF):  # padding after the last record
            break
        if i + 2 > len(data):
            raise ProtocolError(f"TLV truncated at offset {i}: no length byte")
        length = data[i + 1]
        value = data[i + 2 : i + 2 + length]
        if len(value) != length:
            raise ProtocolError(f"TLV tag {tag:02X} says {length} bytes, only {len(value)} left")
        out[tag] = bytes(value)
        i += 2 + length
    return out


def read_records(transmit: Transmit, fid: int, records: Iterable[int]) -> dict[int, bytes]:
    """SELECT ``fid`` and READ RECORD each record; records the card lacks are skipped unless
    the kiosk needs them."""
    exchange(transmit, select_file(fid))
    out: dict[int, bytes] = {}
    for record in records:
        try:
            data = exchange(transmit, read_record(record))
        except RecordNotFoundError:
            if record in REQUIRED_RECORDS:
                raise
            continue
        tlv = parse_tlv(data)
        if record not in tlv:
            raise ProtocolError(
                f"READ RECORD {record:02X} of {fid:04X} returned no tag {record:02X}"
            )
        out[record] = tlv[record]
    return out


def read_card(transmit: Transmit) -> SocialSecurityCard:
    """The whole read: select the application, EF05, EF06, parse. Raises CardError family."""
    exchange(transmit, select_application())
    ef05 = read_records(transmit, EF05, EF05_RECORDS)
    ef06 = read_records(transmit, EF06, EF06_RECORDS)
    return parse_card(ef05, ef06)


# --- values ----------------------------------------------------------------------------------


def bcd_digits(value: bytes) -> str:
    """``20 15 06 30`` -> ``"20150630"``; FF padding nibbles end it; other non-digits refused."""
    digits = []
    for byte in value:
        for nibble in (byte >> 4, byte & 0x0F):
            if nibble == 0x0F:
                return "".join(digits)
            if nibble > 9:
                raise CardDataError(f"a {len(value)}-byte BCD value has a non-decimal nibble")
            digits.append(str(nibble))
    return "".join(digits)


def bcd_date(value: bytes) -> dt.date | None:
    """4 bytes BCD YYYYMMDD; all 00 or all FF means "not written"."""
    if not value or set(value) <= {0x00} or set(value) <= {0xFF}:
        return None
    digits = bcd_digits(value)
    if len(digits) != 8:
        raise CardDataError("a BCD date does not have 8 digits")
    try:
        return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise CardDataError("a BCD date is not a real date") from None


def encode_bcd_date(date: dt.date) -> bytes:
    return bytes.fromhex(date.strftime("%Y%m%d"))


def gbk_text(value: bytes) -> str:
    """A name or other text field: GBK on the card, decoded as GB18030 (its superset) so
    rare characters (生僻字) survive; trailing 00 / FF / space padding dropped."""
    value = value.rstrip(b"\x00\xff ")
    try:
        return value.decode("gb18030").strip()
    except UnicodeDecodeError:
        raise CardDataError("text field is not valid GBK/GB18030") from None


def ascii_field(value: bytes) -> str:
    """An an-type field (card number, ID number): ASCII, padding dropped."""
    value = value.rstrip(b"\x00\xff ")
    try:
        return value.decode("ascii").strip()
    except UnicodeDecodeError:
        raise CardDataError("ASCII field holds non-ASCII bytes") from None


def code_field(value: bytes) -> str:
    """Fields whose format varies between issuers (card id, version, issuer code): shown as
    text when printable ASCII, otherwise as hex."""
    value = value.rstrip(b"\x00\xff")
    if value and all(0x20 <= b < 0x7F for b in value):
        return value.decode("ascii").strip()
    return value.hex().upper()


def sex_field(value: bytes) -> Sex:
    """an1 ``'1'`` on the cards seen; a binary 1 is accepted too."""
    if len(value) != 1:
        return Sex.UNKNOWN
    b = value[0]
    code = chr(b) if 0x30 <= b <= 0x39 else str(b) if b <= 9 else ""
    try:
        return Sex(code)
    except ValueError:
        return Sex.UNKNOWN


def nation_field(value: bytes) -> str:
    """cn1 (BCD) ``0x01`` -> ``"01"``; a byte that is not BCD is read as a binary number."""
    if len(value) != 1:
        return ""
    b = value[0]
    if (b >> 4) <= 9 and (b & 0x0F) <= 9:
        return f"{b:02X}"
    return f"{b:02d}"


def parse_card(ef05: dict[int, bytes], ef06: dict[int, bytes]) -> SocialSecurityCard:
    """Build the value object from the two files' records (tag -> value)."""
    card_number = ascii_field(ef05[TAG_CARD_NUMBER])
    id_number = ascii_field(ef06[TAG_ID_NUMBER]).upper()
    if not is_valid_id_number(id_number):
        raise CardDataError(
            "the card's 社会保障号码 is not a valid ID number (check digit or date)"
        )
    name = gbk_text(ef06[TAG_NAME])
    if not name:
        raise CardDataError("the card's name record is empty")
    if not card_number:
        raise CardDataError("the card's card-number record is empty")
    extra: dict[str, str] = {}
    if TAG_BIRTHPLACE in ef06:
        extra["birthplace"] = bcd_digits(ef06[TAG_BIRTHPLACE])
    birth = bcd_date(ef06[TAG_BIRTH_DATE]) if TAG_BIRTH_DATE in ef06 else None
    identity = Identity(
        card_type=CardType.SOCIAL_SECURITY,
        name=name,
        id_number=id_number,
        sex=sex_field(ef06.get(TAG_SEX, b"")),
        birth_date=birth,
        nation=nation_field(ef06.get(TAG_NATION, b"")),
        extra=extra,
    )
    return SocialSecurityCard(
        card_number=card_number,
        identity=identity,
        issue_date=bcd_date(ef05[TAG_ISSUE_DATE]) if TAG_ISSUE_DATE in ef05 else None,
        expiry_date=bcd_date(ef05[TAG_EXPIRY_DATE]) if TAG_EXPIRY_DATE in ef05 else None,
        card_id=code_field(ef05.get(TAG_CARD_ID, b"")),
        card_type=code_field(ef05.get(TAG_CARD_TYPE, b"")),
        version=code_field(ef05.get(TAG_VERSION, b"")),
        issuer=code_field(ef05.get(TAG_ISSUER, b"")),
    )
