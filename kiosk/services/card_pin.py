"""社会保障卡密码修改: the resident changes the card's PIN; the card itself checks and keeps it.

Three steps on a PIN keypad whose digits are shuffled each time it appears: the old PIN
(checked by the card at once with VERIFY, so a wrong one is told before anything else), the
new PIN, the new PIN again; then CHANGE on the card (``sscard_apdu.change_card_pin``). The
commands go through the reader's monitor thread (``SocialSecurityCardReader.run_on_card``).

* A wrong PIN (63Cx) says how many tries are left; the last one (63C0) or a blocked PIN (6983)
  ends the item: unblocking needs the card office, so the resident is sent to a counter.
* A weak new PIN is refused before it reaches the card (``weak_pin_reason``).
* PINs are held in ``bytearray``s that are overwritten as soon as they have been used and
  when the session ends (``wipe``); they are never logged, shown (only dots) or journaled.

No backend: the PIN lives on the card. The matter is journaled (masked) like every other.
Blocking (the card): the UI runs ``check_old`` and ``change`` on a worker. No Kivy here.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from kiosk.errors import CardError, JourneyError, KioskError, NoCardError
from kiosk.hardware import sscard_apdu as sa
from kiosk.services.journey import Outcome

if TYPE_CHECKING:
    from kiosk.services.catalogue import ServiceItem
    from kiosk.services.journey import Journey

log = logging.getLogger(__name__)

PIN_DIGITS = sa.PIN_DIGITS

#: (rule, zh, en), checked in this order; the first one broken is what the resident is told
WEAK_PIN_RULES: tuple[tuple[str, str, str], ...] = (
    ("digits", "密码须为6位数字", "The PIN must be 6 digits"),
    ("same", "新密码不能为6个相同的数字（如111111）", "The new PIN cannot be one digit six times (like 111111)"),
    ("sequence", "新密码不能为连续的数字（如123456、654321）",
     "The new PIN cannot be digits in a row (like 123456 or 654321)"),
    ("birth", "新密码不能为您的出生日期（身份证号码中的年月日）",
     "The new PIN cannot be your date of birth (as in your ID number)"),
    ("id_tail", "新密码不能为身份证号码的后6位", "The new PIN cannot be the last 6 digits of your ID number"),
    ("unchanged", "新密码不能与原密码相同", "The new PIN must differ from the old one"),
)
_RULES = {rule: (zh, en) for rule, zh, en in WEAK_PIN_RULES}


def weak_pin_reason(new: bytes | bytearray, id_number: str, old: bytes | bytearray = b"") -> str:
    """The first rule a new PIN breaks ("" when it breaks none); see ``WEAK_PIN_RULES``.

    Birth date forms refused: YYMMDD, MMDDYY and DDMMYY of the date in the ID number (digits
    7-14), as a PIN of six digits can hold it; a sequence is six digits each one up (or down)
    from the last, e.g. 012345, 345678, 987654."""
    pin = bytes(new)
    if len(pin) != PIN_DIGITS or not pin.isdigit():
        return "digits"
    if len(set(pin)) == 1:
        return "same"
    steps = {pin[i + 1] - pin[i] for i in range(PIN_DIGITS - 1)}
    if steps in ({1}, {-1}):
        return "sequence"
    number = (id_number or "").strip().upper()
    if len(number) == 18 and number[6:14].isdigit():
        yyyy, mm, dd = number[6:10], number[10:12], number[12:14]
        if pin.decode() in (yyyy[2:] + mm + dd, mm + dd + yyyy[2:], dd + mm + yyyy[2:]):
            return "birth"
        if number[-6:].isdigit() and pin.decode() == number[-6:]:
            return "id_tail"
    if old and pin == bytes(old):
        return "unchanged"
    return ""


class PinRefused(JourneyError):
    """A new PIN the terminal refuses, or two entries that differ: the step is asked again."""


class CardPinFlow:
    """社会保障卡密码修改 for the card the resident identified with."""

    def __init__(self, item: ServiceItem, journey: Journey) -> None:
        self.item = item
        self.journey = journey
        self.txn = journey.session.matter_no
        self.step = "old"  # old -> new -> again -> (done)
        self._old = bytearray()
        self._new = bytearray()
        self.outcome: Outcome | None = None
        if journey.session.identified_by != "sscard" or journey.session.sscard is None:
            raise JourneyError("the PIN is changed on the social security card itself",
                               message_zh="请插入本人社会保障卡办理", message_en="Insert your social security card")

    # --- the card -------------------------------------------------------------------------

    def _reader(self) -> Any:
        reader = self.journey.ports.devices.device("sscard")
        if reader is None or not hasattr(reader, "run_on_card"):
            raise KioskError("no social security card reader", message_zh="本终端未配备社保卡读卡器",
                             message_en="This terminal has no social security card reader")
        return reader

    def _same_card(self, transmit: sa.Transmit) -> None:
        """The card in the reader is the one the resident identified with (a swapped card would
        otherwise be changed under the first resident's name)."""
        card = sa.read_card(transmit)
        mine = self.journey.session.sscard
        if mine is None or card.card_number != mine.card_number:
            raise CardError("a different card is in the reader",
                            message_zh="读卡口中的卡已更换，请插入本人社会保障卡后重新办理",
                            message_en="The card was changed; insert your own card and start again")

    def check_old(self, pin: bytearray) -> None:
        """VERIFY the old PIN on the card; keeps it for CHANGE. Raises ``WrongPinError`` (tries
        left), ``PinBlockedError`` or ``CardError``. ``pin`` is overwritten. Blocking."""
        try:
            if len(pin) != PIN_DIGITS or not bytes(pin).isdigit():
                raise PinRefused("old PIN not 6 digits", message_zh=_RULES["digits"][0], message_en=_RULES["digits"][1])

            def verify(transmit: sa.Transmit) -> None:
                self._same_card(transmit)
                sa.check_pin(transmit, pin)

            self._reader().run_on_card(verify)
            self._old[:] = pin
            self.step = "new"
        finally:
            _overwrite(pin)

    def set_new(self, pin: bytearray) -> None:
        """The new PIN, once: refused if weak (the rule in the error's message). ``pin`` is
        overwritten."""
        try:
            identity = self.journey.session.identity
            rule = weak_pin_reason(pin, identity.id_number if identity else "", self._old)
            if rule:
                zh, en = _RULES[rule]
                raise PinRefused(f"weak new PIN ({rule})", message_zh=zh, message_en=en, code=rule)
            self._new[:] = pin
            self.step = "again"
        finally:
            _overwrite(pin)

    def change(self, again: bytearray) -> Outcome:
        """The new PIN a second time, then CHANGE on the card. Two entries that differ go back
        to the new PIN. Blocking. ``again`` is overwritten."""
        try:
            if bytes(again) != bytes(self._new):
                _overwrite(self._new)
                self._new = bytearray()
                self.step = "new"
                raise PinRefused("the two new PINs differ", message_zh="两次输入的新密码不一致，请重新设置新密码",
                                 message_en="The two new PINs differ; set the new PIN again", code="mismatch")
        finally:
            _overwrite(again)
        journal = self.journey.ports.journal
        who = self.journey.session.identity
        entry: dict[str, Any] = {"transaction_no": self.txn, "item_id": self.item.id, "item_name": self.item.name_zh,
                 "masked_name": who.masked_name if who else "", "masked_id": who.masked_id if who else ""}
        journal.begin(**entry, status="started")  # before the act: a store that refuses stops it here

        def change(transmit: sa.Transmit) -> None:
            self._same_card(transmit)
            sa.change_card_pin(transmit, self._old, self._new)

        try:
            self._reader().run_on_card(change)
        except (sa.WrongPinError, sa.PinBlockedError, CardError) as e:
            self.wipe()
            return self.card_refused(e)
        finally:
            self.wipe()
        journal.settle(**entry, status="completed")
        log.info("card PIN changed (%s)", self.txn)
        self.outcome = Outcome(
            ok=True, title_zh="密码修改成功", title_en="PIN changed",
            message_zh="您的社会保障卡密码已修改，新密码即时生效。请牢记新密码，请勿告诉他人。请取走您的社会保障卡。",
            message_en="Your card's PIN is changed and works now. Remember it and tell nobody. Please take your card.",
            reference=self.txn,
        )
        return self.outcome

    def card_refused(self, error: KioskError) -> Outcome:
        """What ends the item when the card refuses (blocked: to a counter; or a card fault),
        journaled ``failed``."""
        who = self.journey.session.identity
        self.journey.ports.journal.settle(  # never raises: a refused write is kept to write later
            transaction_no=self.txn, item_id=self.item.id, item_name=self.item.name_zh,
            masked_name=who.masked_name if who else "", masked_id=who.masked_id if who else "", status="failed")
        self.outcome = self._refusal(error)
        return self.outcome

    def _refusal(self, error: KioskError) -> Outcome:
        if isinstance(error, sa.PinBlockedError) or (isinstance(error, sa.WrongPinError) and error.tries_left == 0):
            blocked = sa.PinBlockedError(0x6983)
            return Outcome(
                ok=False, title_zh="密码已锁定", title_en="The PIN is blocked",
                message_zh=blocked.message_zh + "。本终端不能解锁密码。",
                message_en=blocked.message_en + ". This terminal cannot unblock it.",
                reference=self.txn,
            )
        if isinstance(error, NoCardError):
            return Outcome.failed(error, self.txn, then=("请插入社会保障卡后重新办理。", "Insert the card and start again."))
        return Outcome.failed(error, self.txn, then=("密码未修改。请重新办理，或到社保服务窗口办理。",
                                                      "The PIN was not changed. Try again, or go to a window."))

    def wipe(self) -> None:
        """Forget both PINs (the session ended, or the card has them now)."""
        _overwrite(self._old)
        _overwrite(self._new)
        self._old, self._new = bytearray(), bytearray()


def wrong_pin_words(error: sa.WrongPinError) -> tuple[str, str]:
    """63Cx in the resident's words: wrong, and how many tries are left."""
    return (f"原密码错误，还可以再试{error.tries_left}次。连续输错将锁定密码，需到窗口解锁",
            f"Wrong PIN: {error.tries_left} more tries. Too many wrong tries block the PIN; "
            "unblocking needs a visit to a window")


def _overwrite(buffer: bytearray) -> None:
    buffer[:] = bytes(len(buffer))
