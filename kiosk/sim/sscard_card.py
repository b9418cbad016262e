"""A virtual social-security card: the card's side of the APDU conversation, for one resident.

Answers like a T=0 社保卡: SELECT of the application by its GBK name (FCI behind 61xx),
SELECT EF05 / EF06, READ RECORD with TLV records. A READ RECORD with the wrong Le is answered
6Cxx, and some records always come back as 61xx so that GET RESPONSE runs too. No I/O here:
``sscard_slot.DirectTransport`` calls it in-process and ``vpcd_card`` puts it behind a real pcscd.

Card keys are the demo residents' keys (``kiosk.sim.demo_data``) plus three special cards:
``error_card`` (answers 6A82 to the EF06 select), ``pulled_card`` (leaves the reader right
after the last EF05 record has been read) and ``pin_blocked`` (its PIN blocked by wrong tries).

The PIN follows the PBOC convention: VERIFY ``00 20 00 00 03 <6 BCD digits>`` and CHANGE
``80 5E 01 00 07 <old> FF <new>`` under the selected application; a wrong PIN answers 63Cx
(x tries left, ``PIN_TRIES`` in all), the last wrong one answers 63C0 and blocks it (6983 from
then on), a right
one restores the tries. Every demo card is issued with ``DEMO_PIN``, as 社保卡 are issued with an
initial PIN the holder is asked to change. The PIN lives in a ``PinState`` a card slot keeps
per card key, so a PIN changed at the terminal is still changed when the card comes back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from kiosk.hardware import sscard_apdu as sa
from kiosk.sim.demo_data import BY_KEY, DemoResident

#: T=0 only (TD1 absent), TB1/TC1 zero, 12 historical bytes naming the card
ATR = bytes([0x3B, 0x6C, 0x00, 0x00]) + b"CN.SSCARD.V3"

ERROR_CARD = "error_card"
PULLED_CARD = "pulled_card"
PIN_BLOCKED = "pin_blocked"
#: whose data the special cards carry
_SPECIAL_BASE = {ERROR_CARD: "wang_jianguo", PULLED_CARD: "chen_ming", PIN_BLOCKED: "li_guilan"}
#: the PIN every demo card is issued with, and how many wrong tries block it
DEMO_PIN = "123456"
PIN_TRIES = 3

_SW_OK = b"\x90\x00"


def _sw(sw: int) -> bytes:
    return bytes([sw >> 8, sw & 0xFF])


def _tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag, len(value)]) + value


@dataclass
class PinState:
    """The card's PIN and the tries left before it blocks (0: blocked)."""

    pin: str = DEMO_PIN
    tries_left: int = PIN_TRIES
    changes: int = 0  # how many times it was changed (tests read it)


def _pin_digits(bcd: bytes) -> str | None:
    digits = "".join(f"{b:02X}" for b in bcd)
    return digits if digits.isdigit() else None


@dataclass
class VirtualSsCard:
    """One card. ``records`` maps file id -> record number -> record bytes (the TLV)."""

    records: dict[int, dict[int, bytes]]
    fail_select: frozenset[int] = frozenset()  # file ids answered 6A82
    pull_after_ef05: bool = False
    #: records answered 61xx (data fetched by GET RESPONSE), as a T=0 card does after a case-4
    t0_records: frozenset[int] = frozenset({sa.TAG_CARD_ID, sa.TAG_NAME})
    atr: bytes = ATR
    label: str = ""  # the key it was made from; not personal data
    pin_state: PinState = field(default_factory=PinState)
    pulled: bool = field(default=False, init=False)  # True once the card has left the reader
    apdu_count: int = field(default=0, init=False)
    _app: bool = field(default=False, init=False, repr=False)
    _ef: int | None = field(default=None, init=False, repr=False)
    _pending: bytes | None = field(default=None, init=False, repr=False)
    _pending_record: int | None = field(default=None, init=False, repr=False)

    def reset(self) -> None:
        """Power-on or reset: the card forgets its selection."""
        self._app = False
        self._ef = None
        self._pending = None

    def handle(self, apdu: bytes) -> bytes:
        """One command in, response data + SW1 SW2 out."""
        self.apdu_count += 1
        if len(apdu) < 4:
            return _sw(0x6700)
        cla, ins, p1, p2 = apdu[:4]
        pending, self._pending = self._pending, None
        pending_record, self._pending_record = self._pending_record, None
        if cla == 0x80 and ins == 0x5E:
            return self._change_pin(apdu, p1, p2)
        if cla != 0x00:
            return _sw(0x6E00)
        if ins == 0x20:
            return self._verify(apdu, p1, p2)
        if ins == 0xC0:
            return self._get_response(apdu, pending, pending_record)
        if ins == 0xA4:
            return self._select(apdu, p1)
        if ins == 0xB2:
            return self._read_record(apdu, p1, p2)
        return _sw(0x6D00)

    # --- commands ----------------------------------------------------------------------------

    def _select(self, apdu: bytes, p1: int) -> bytes:
        if len(apdu) < 5 or len(apdu) < 5 + apdu[4]:
            return _sw(0x6700)
        data = apdu[5 : 5 + apdu[4]]
        if p1 == 0x04:
            if data != sa.APP_NAME_BYTES:
                return _sw(0x6A82)
            self._app, self._ef = True, None
            fci = _tlv(0x6F, _tlv(0x84, sa.APP_NAME_BYTES) + _tlv(0xA5, b"\x9f\x08\x01\x03"))
            self._pending = fci
            return _sw(0x6100 | len(fci))
        if p1 == 0x02:
            if len(data) != 2:
                return _sw(0x6700)
            fid = int.from_bytes(data, "big")
            if not self._app or fid not in self.records or fid in self.fail_select:
                return _sw(0x6A82)
            self._ef = fid
            return _SW_OK
        return _sw(0x6A86)

    def _read_record(self, apdu: bytes, record: int, p2: int) -> bytes:
        if p2 & 0x07 != 0x04:
            return _sw(0x6A86)
        sfi = p2 >> 3
        if sfi:
            fid = 0xEF00 | sfi
            if not self._app or fid not in self.records or fid in self.fail_select:
                return _sw(0x6A82)
            self._ef = fid
        if self._ef is None:
            return _sw(0x6986)
        data = self.records[self._ef].get(record)
        if data is None:
            return _sw(0x6A83)
        if record in self.t0_records:
            self._pending, self._pending_record = data, record
            return _sw(0x6100 | (len(data) & 0xFF))
        le = apdu[4] if len(apdu) > 4 else 0
        if (le or 256) != len(data):
            return _sw(0x6C00 | (len(data) & 0xFF))
        self._after_read(record)
        return data + _SW_OK

    def _verify(self, apdu: bytes, p1: int, p2: int) -> bytes:
        if (p1, p2) != (0x00, 0x00):
            return _sw(0x6A86)
        if len(apdu) != 8 or apdu[4] != 3:
            return _sw(0x6700)
        if not self._app:
            return _sw(0x6985)
        pin = _pin_digits(apdu[5:8])
        return self._check(pin) if pin is not None else _sw(0x6A80)

    def _change_pin(self, apdu: bytes, p1: int, p2: int) -> bytes:
        if (p1, p2) != (0x01, 0x00):
            return _sw(0x6A86)
        if len(apdu) != 12 or apdu[4] != 7:
            return _sw(0x6700)
        if apdu[8] != 0xFF:
            return _sw(0x6A80)
        if not self._app:
            return _sw(0x6985)
        old, new = _pin_digits(apdu[5:8]), _pin_digits(apdu[9:12])
        if old is None or new is None:
            return _sw(0x6A80)
        answer = self._check(old)
        if answer == _SW_OK:
            self.pin_state.pin = new
            self.pin_state.changes += 1
        return answer

    def _check(self, pin: str) -> bytes:
        state = self.pin_state
        if state.tries_left <= 0:
            return _sw(0x6983)
        if pin != state.pin:
            state.tries_left -= 1
            return _sw(0x63C0 | state.tries_left)  # 63C0: that was the last try, blocked now
        state.tries_left = PIN_TRIES
        return _SW_OK

    def _get_response(self, apdu: bytes, pending: bytes | None, record: int | None) -> bytes:
        if pending is None:
            return _sw(0x6985)
        le = (apdu[4] if len(apdu) > 4 else 0) or 256
        if le > len(pending) and le != 256:
            self._pending, self._pending_record = pending, record
            return _sw(0x6C00 | len(pending))
        if le < len(pending):
            self._pending, self._pending_record = pending[le:], record
            return pending[:le] + _sw(0x6100 | (len(self._pending) & 0xFF))
        if record is not None:
            self._after_read(record)
        return pending + _SW_OK

    def _after_read(self, record: int) -> None:
        last_ef05 = max(self.records.get(sa.EF05, {0: b""}))
        if self.pull_after_ef05 and self._ef == sa.EF05 and record == last_ef05:
            self.pulled = True


# --- cards for the demo residents --------------------------------------------------------------


def issue_date_for(resident: DemoResident) -> dt.date:
    """A stable issue date between 2016 and 2023, different per resident."""
    return dt.date(2016 + resident.seq % 8, 1 + resident.seq % 12, 1 + resident.seq % 28)


def expiry_date_for(resident: DemoResident) -> dt.date:
    issued = issue_date_for(resident)
    return issued.replace(year=issued.year + 10)


def records_for(resident: DemoResident) -> dict[int, dict[int, bytes]]:
    """EF05 and EF06 as the card holds them, TLV per record."""
    card_id = f"{resident.area}D156{resident.seq:06d}".encode("ascii")  # 16 bytes
    name = resident.name.encode("gb18030").ljust(30, b"\x00")
    ef05 = {
        sa.TAG_CARD_ID: card_id,
        sa.TAG_CARD_TYPE: b"3",
        sa.TAG_VERSION: b"3.00",
        sa.TAG_ISSUER: f"{resident.area}000000".encode("ascii"),
        sa.TAG_ISSUE_DATE: sa.encode_bcd_date(issue_date_for(resident)),
        sa.TAG_EXPIRY_DATE: sa.encode_bcd_date(expiry_date_for(resident)),
        sa.TAG_CARD_NUMBER: resident.sscard_number.encode("ascii"),
    }
    ef06 = {
        sa.TAG_ID_NUMBER: resident.id_number.encode("ascii"),
        sa.TAG_NAME: name,
        sa.TAG_SEX: resident.sex.encode("ascii"),
        sa.TAG_NATION: bytes.fromhex(resident.nation),
        sa.TAG_BIRTHPLACE: bytes.fromhex(resident.area),
        sa.TAG_BIRTH_DATE: bytes.fromhex(resident.birth),
    }
    return {
        sa.EF05: {tag: _tlv(tag, value) for tag, value in ef05.items()},
        sa.EF06: {tag: _tlv(tag, value) for tag, value in ef06.items()},
    }


def card_keys() -> tuple[str, ...]:
    """Every key ``card_for`` accepts."""
    return (*BY_KEY, ERROR_CARD, PULLED_CARD, PIN_BLOCKED)


def resident_for(key: str) -> DemoResident:
    """The demo resident whose data the card ``key`` carries."""
    try:
        return BY_KEY[_SPECIAL_BASE.get(key, key)]
    except KeyError:
        raise KeyError(f"no demo card {key!r}; known: {', '.join(card_keys())}") from None


def card_for(key: str) -> VirtualSsCard:
    """A fresh card for a demo resident key, ``error_card`` or ``pulled_card``."""
    records = records_for(resident_for(key))
    return VirtualSsCard(
        records=records,
        fail_select=frozenset({sa.EF06}) if key == ERROR_CARD else frozenset(),
        pull_after_ef05=key == PULLED_CARD,
        label=key,
        pin_state=PinState(tries_left=0) if key == PIN_BLOCKED else PinState(),
    )
