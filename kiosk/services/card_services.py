"""社会保障卡服务: the card's status, and 临时挂失 (temporary loss report) confirmed by phone.

Both are backend transactions: the terminal never writes to the card. 临时挂失 is confirmed
by the mobile number the resident registered, keyed on the numeric keypad; the backend
answers whether it matches (``phone_mismatch``), so the number on record never reaches the
terminal. A card already reported lost is said so plainly, before anything is keyed.
After a loss report a receipt is printed when the printer is usable; the loss itself stands
whether or not the receipt prints, so a printing failure never turns the outcome into a
failure. The journal's intent is on disk before the backend is asked: a store that refuses
it stops the report before anything happens.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kiosk.errors import BackendError, KioskError, StoreError
from kiosk.receipt import PrintJob, Receipt
from kiosk.services.assistance import InvalidPhoneError, is_mobile_number
from kiosk.services.journey import Outcome
from kiosk.services.paper import print_kept

if TYPE_CHECKING:
    from kiosk.services.catalogue import ServiceItem
    from kiosk.services.journey import Journey

log = logging.getLogger(__name__)

#: wrong phone numbers accepted before the resident is sent to a window (guessing guard)
MAX_PHONE_ATTEMPTS = 3

NEXT_STEPS_ZH = (
    "临时挂失在规定期限内有效（期限以当地规定为准），逾期自动解除。",
    "请尽快携本人身份证到社保服务窗口办理正式挂失和补卡。",
    "社保卡的银行账户请另行致电发卡银行挂失。人社服务热线 12333。",
)
NEXT_STEPS_EN = (
    "The temporary report lapses after the local time limit.",
    "Bring your ID card to a social insurance window soon to report the loss formally and get a new card.",
    "Report the card's bank account to the issuing bank. Hotline 12333.",
)

#: the line under a card's state: a lost card's bank account; a card in use, what to do if it is lost
STATE_NEXT = {
    True: (NEXT_STEPS_ZH[2], NEXT_STEPS_EN[2]),
    False: ("如卡片丢失，可在本机「社会保障卡临时挂失」中办理。人社服务热线 12333。",
            "If the card is lost, report it on this terminal: “Temporarily report a lost social security card”. Hotline 12333."),
}


class PhoneMismatchError(BackendError):
    """The keyed phone number is not the one on record; ``attempts_left`` more may be tried."""

    message_zh = "手机号码与登记信息不一致，请重新输入"
    message_en = "That is not the phone number on record; please try again"

    attempts_left: int = 0


@dataclass(frozen=True)
class CardState:
    """What the screen may show of a card: masked number and status, nothing else."""

    masked_card_number: str
    status: str  # normal | lost
    status_zh: str
    changed_at: str | None = None
    masked_phone: str = ""  # the hint for the keypad, when the backend sends it

    @property
    def lost(self) -> bool:
        return self.status == "lost"

    @property
    def status_en(self) -> str:
        return {"normal": "In normal use", "lost": "Temporarily reported lost"}.get(self.status, self.status)

    @property
    def since(self) -> str:
        """``changed_at`` as local date and time, or ''."""
        return (self.changed_at or "")[:16].replace("T", " ")


def _card_state(answer: dict) -> CardState:
    return CardState(
        masked_card_number=str(answer.get("masked_card_number", "")),
        status=str(answer.get("status", "")),
        status_zh=str(answer.get("status_zh", "")),
        changed_at=answer.get("changed_at"),
        masked_phone=str(answer.get("masked_phone", "")),
    )


class CardStatusFlow:
    """社会保障卡状态查询: load the status, show it, done."""

    def __init__(self, item: ServiceItem, journey: Journey) -> None:
        self.item = item
        self.journey = journey
        self.card: CardState | None = None

    @property
    def reference(self) -> str:
        return self.journey.session.matter_no

    # blocking: run on a worker thread
    def load(self) -> CardState:
        session = self.journey.session
        assert session.identity is not None
        self.card = _card_state(self.journey.ports.backend.card_status(session.identity.id_number))
        return self.card

    def status_outcome(self) -> Outcome:
        """The query's result: the card's status and, for a lost card, what to do next."""
        card = self.card
        assert card is not None
        if card.lost:
            return Outcome(
                ok=True,
                title_zh="您的社会保障卡处于临时挂失状态",
                title_en="Your social security card is reported lost",
                message_zh=(f"卡号 {card.masked_card_number}，{card.since} 起挂失。" if card.since
                            else f"卡号 {card.masked_card_number}，已挂失。") + NEXT_STEPS_ZH[1],
                message_en=(f"Card {card.masked_card_number}, reported lost since {card.since}. " if card.since
                            else f"Card {card.masked_card_number}, reported lost. ") + NEXT_STEPS_EN[1],
                reference=self.reference,
                notice=True,  # done, and what it found needs the resident's attention: no green tick
            )
        return Outcome(
            ok=True,
            title_zh="您的社会保障卡状态正常",
            title_en="Your social security card is in normal use",
            message_zh=f"卡号 {card.masked_card_number}：{card.status_zh}",
            message_en=f"Card {card.masked_card_number}: {card.status_en}",
            reference=self.reference,
        )

    def failed_outcome(self, error: KioskError) -> Outcome:
        """The query or the report could not be done: the reason, a reference, what next."""
        return Outcome.failed(error, self.reference, then=(
            "请稍后再试，或凭参考号到社保服务窗口办理，也可拨打12333。",
            "Try again later, or show the reference number at a social insurance window, or call 12333.",
        ))


class CardLossFlow(CardStatusFlow):
    """社会保障卡临时挂失: load status -> key the phone on record -> report -> receipt."""

    def __init__(self, item: ServiceItem, journey: Journey) -> None:
        super().__init__(item, journey)
        self.attempts_left = MAX_PHONE_ATTEMPTS
        self.reported = False

    # blocking: run on a worker thread
    def report(self, phone: str) -> Outcome:
        """Report the loss, confirmed by ``phone``; print the receipt. Safe to call again.

        Raises ``InvalidPhoneError`` (not a mobile number: nothing sent) and
        ``PhoneMismatchError`` (wrong number, attempts remain); every other end is an Outcome.
        """
        j = self.journey
        session, ports = j.session, j.ports
        assert session.identity is not None
        if self.card is not None and self.card.lost and not self.reported:
            return self.already_lost_outcome()
        if not is_mobile_number(phone):
            raise InvalidPhoneError(f"keyed phone has {len(phone)} digits or a bad prefix")
        if self.attempts_left <= 0:
            return self._too_many_attempts()
        # the same number again reuses its key (a resend after a timeout applies once); another
        # number gets a new key. The key carries a keyed hash, never the number itself.
        tag = hmac.new(ports.secret, phone.encode(), hashlib.sha256).hexdigest()[:12]
        try:
            self._intent()  # on disk before the backend is asked: a store that refuses stops here
        except StoreError as e:
            log.error("card loss %s stopped before reporting: the store refused its journal entry: %s",
                      self.reference, e)
            return self.failed_outcome(e)
        try:
            answer = ports.backend.report_card_loss(
                session.identity.id_number, phone, idempotency_key=f"{self.reference}-loss-{tag}"
            )
        except BackendError as e:
            if not e.retryable:  # answered no before doing anything: nothing to journal yet
                ports.journal.drop_intent(self.reference)
            if e.code == "phone_mismatch":
                self.attempts_left -= 1
                if self.attempts_left <= 0:
                    return self._too_many_attempts()
                err = PhoneMismatchError("phone does not match the record", code="phone_mismatch")
                err.attempts_left = self.attempts_left
                raise err from e
            if e.code == "already_lost":
                self.card = _card_state(ports.backend.card_status(session.identity.id_number))
                return self.already_lost_outcome()
            log.warning("card loss %s not reported: %s", self.reference, e)
            return self.failed_outcome(e)
        except KioskError as e:
            log.warning("card loss %s not reported: %s", self.reference, e)
            return self.failed_outcome(e)
        self.card = _card_state(answer)
        self.reported = True
        self._journal("completed")
        return self._reported_outcome(self.print_receipt())

    def already_lost_outcome(self) -> Outcome:
        card = self.card
        assert card is not None
        return Outcome(
            ok=False,
            title_zh="该卡已处于临时挂失状态，无需重复挂失",
            title_en="This card is already reported lost",
            message_zh=f"卡号 {card.masked_card_number}，{card.since} 起挂失。{NEXT_STEPS_ZH[1]}",
            message_en=f"Card {card.masked_card_number}, reported lost since {card.since}. {NEXT_STEPS_EN[1]}",
            reference=self.reference,
        )

    def _too_many_attempts(self) -> Outcome:
        self._journal("failed")
        return Outcome(
            ok=False,
            title_zh="手机号码核验未通过",
            title_en="The phone number could not be confirmed",
            message_zh="多次输入的手机号码与登记信息不一致，为保护您的账户，本次挂失未办理。"
            "请携本人身份证到社保服务窗口办理，或拨打12333。",
            message_en="The phone numbers keyed did not match the one on record, so the card was not reported lost. "
            "Bring your ID card to a social insurance window, or call 12333.",
            reference=self.reference,
        )

    # blocking: run on a worker thread
    def print_receipt(self) -> str:
        """Print the loss receipt once per session; '' when printed, else why not (zh)."""
        return print_kept(self.journey.ports, self.journey.session, "loss_receipt",
                          lambda: PrintJob(job_id=f"{self.reference}-loss", receipt=self._receipt()),
                          "card loss receipt")

    # the result screen retries a failed print through this name
    def print_certificate(self) -> Outcome:
        return self._reported_outcome(self.print_receipt())

    def _reported_outcome(self, not_printed: str) -> Outcome:
        card = self.card
        assert card is not None
        if not_printed:
            slip_zh = f"回执未打印（{not_printed}），请记下参考号。"
            slip_en = "No receipt was printed; please note the reference number."
        else:
            slip_zh, slip_en = "请取走回执。", "Please take your receipt."
        return Outcome(
            ok=True,
            title_zh="临时挂失成功",
            title_en="Your card is reported lost",
            message_zh=f"卡号 {card.masked_card_number} 已临时挂失，社保功能已停用。{slip_zh}{''.join(NEXT_STEPS_ZH[1:])}",
            message_en=f"Card {card.masked_card_number} is reported lost; its social-security functions are stopped. "
            f"{slip_en} {' '.join(NEXT_STEPS_EN[1:])}",
            reference=self.reference,
            can_retry="print" if not_printed and self._printer_fitted() else "",
        )

    def _printer_fitted(self) -> bool:
        return self.journey.ports.devices.device("printer") is not None

    def _receipt(self) -> Receipt:
        card, identity = self.card, self.journey.session.identity
        assert card is not None and identity is not None
        cfg = self.journey.ports.config
        return Receipt(
            title="临时挂失回执",  # short enough for one line of double-size type on 58 mm paper
            transaction_no=self.reference,
            issued_at=self.journey.ports.now().strftime("%Y-%m-%d %H:%M:%S"),
            terminal_id=cfg.terminal.id,
            lines=(
                ("事项", self.item.name_zh),
                ("持卡人", identity.masked_name),
                ("身份证号", identity.masked_id),
                ("社会保障卡号", card.masked_card_number),
                ("卡片状态", card.status_zh),
                ("挂失时间", card.since),
            ),
            footer=NEXT_STEPS_ZH,
        )

    def _intent(self) -> None:
        identity = self.journey.session.identity
        self.journey.ports.journal.begin(
            transaction_no=self.reference,
            item_id=self.item.id,
            item_name=self.item.name_zh,
            masked_name=identity.masked_name if identity else "",
            masked_id=identity.masked_id if identity else "",
            status="started",
        )

    def _journal(self, status: str) -> None:
        identity = self.journey.session.identity
        self.journey.ports.journal.settle(  # never raises: a refused write is kept to write later
            transaction_no=self.reference,
            item_id=self.item.id,
            item_name=self.item.name_zh,
            masked_name=identity.masked_name if identity else "",
            masked_id=identity.masked_id if identity else "",
            status=status,
        )
