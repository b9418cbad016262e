"""缴费: water, electricity and gas bills and social-insurance contributions, paid by QR code.

Two flows share one payment path (``PaymentFlow``):

* ``UtilityPaymentFlow`` (水费 / 电费 / 燃气费, ``params.utility``): account number on the
  keypad -> the bills due -> confirm -> QR -> receipt.
* ``ContributionPaymentFlow`` (城乡居民养老 / 城乡居民医保 / 灵活就业养老): the identified
  resident -> the year and the grades the backend offers -> pick one -> QR -> receipt.

The backend prices every order; the terminal only shows what it is told. How a payment ends
is decided once per session (``PaymentFlow.outcome``): paid (receipt printed, journaled
``completed``), not paid (closed or expired, ``cancelled``), or unknown (``paid_unconfirmed``,
settled later by ``payment_order.settle_unconfirmed``). The order rules themselves live in
``kiosk.services.payment_order``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kiosk.errors import BackendError, JourneyError, KioskError
from kiosk.identity import mask_number
from kiosk.receipt import PrintJob, Receipt
from kiosk.services.certificates import yuan
from kiosk.services.journey import Outcome
from kiosk.services.payment_order import (
    PAYMENT_WINDOW_S,
    POLL_INTERVAL_S,
    UNKNOWN_GRACE_S,
    PaymentOrder,
    PayState,
)

if TYPE_CHECKING:
    from kiosk.services.catalogue import ServiceItem
    from kiosk.services.journey import Journey

log = logging.getLogger(__name__)

UTILITY_NAMES = {"water": ("水费", "water"), "electricity": ("电费", "electricity"), "gas": ("燃气费", "gas")}
ACCOUNT_DIGITS = (8, 12)
#: catalogue flow -> the backend's scheme
SCHEMES = {
    "resident_pension_payment": "pension_resident",
    "resident_medical_payment": "medical_resident",
    "flexible_pension_payment": "pension_flexible",
}
#: social-insurance contributions are collected by the tax authority (社保费由税务部门征收)
CONTRIBUTION_PAYEE = ("税务部门（社会保险费征收）", "Tax bureau (social insurance contributions)")


@dataclass(frozen=True)
class Charge:
    """What the resident is asked to confirm, masked: shown on screen and printed."""

    title_zh: str
    payee_zh: str
    payee_en: str
    payer_masked: str
    lines: tuple[tuple[str, str], ...]  # (label, value), values masked
    amount_fen: int
    table_header: tuple[str, ...] = ()
    table_rows: tuple[tuple[str, ...], ...] = ()
    payable: bool = True
    reason_zh: str = ""  # why nothing can be paid, when not payable
    reason_en: str = ""


@dataclass(frozen=True)
class Grade:
    grade_id: str
    amount_fen: int
    label_zh: str


@dataclass(frozen=True)
class ContributionChoice:
    """What the backend offers this resident for this scheme."""

    scheme_zh: str
    masked_name: str
    masked_id: str
    eligible: bool
    reason_zh: str
    year: int | None
    grades: tuple[Grade, ...]
    months_max: int


@dataclass(frozen=True)
class QrView:
    """What the QR screen shows: never the account or ID number."""

    order_no: str
    qr_payload: str
    amount_fen: int
    payee_zh: str
    payee_en: str
    title_zh: str
    seconds_left: int


class PaymentFlow:
    """The shared pay path: order -> watch -> paid / not paid / unknown -> result."""

    def __init__(self, item: ServiceItem, journey: Journey, clock: Callable[[], float] = time.monotonic) -> None:
        self.item = item
        self.journey = journey
        self.clock = clock
        self.charge: Charge | None = None
        self.outcome: Outcome | None = None
        self.deadline: float | None = None
        self.window_s = PAYMENT_WINDOW_S
        self.unknown_grace_s = UNKNOWN_GRACE_S
        self.txn = journey.session.transaction_no or journey.session.reference
        # one key per session: whatever goes wrong, this session can only ever have one order
        self.payment = PaymentOrder(journey.ports.backend, f"{self.txn}-order", clock)
        self._print_job: PrintJob | None = None
        self._lock = threading.RLock()  # poll, cancel and time-out may race on two workers

    # --- what the subclass says --------------------------------------------------------------

    def _order_request(self) -> dict:
        raise NotImplementedError

    def _journal_who(self) -> tuple[str, str]:
        """(masked name, masked ID) for the journal."""
        raise NotImplementedError

    # --- ordering ---------------------------------------------------------------------------

    def start_payment(self) -> QrView:
        """Create the order (or get this session's order back) and start the clock. Blocking."""
        with self._lock:
            if self.charge is None or not self.charge.payable:
                raise JourneyError("nothing confirmed to pay")
            self.payment.create(self._order_request())
            if self.deadline is None:
                self.deadline = self.clock() + self.window_s
            return self.qr_view()

    def qr_view(self) -> QrView:
        assert self.charge is not None and self.payment.order is not None
        order = self.payment.order
        return QrView(
            order_no=self.payment.order_no,
            qr_payload=str(order["qr_payload"]),
            amount_fen=int(order["amount_fen"]),
            payee_zh=self.charge.payee_zh,
            payee_en=self.charge.payee_en,
            title_zh=self.charge.title_zh,
            seconds_left=self.seconds_left(),
        )

    def seconds_left(self) -> int:
        if self.deadline is None:
            return int(self.window_s)
        return max(0, int(self.deadline - self.clock() + 0.999))

    @property
    def state(self) -> PayState:
        return self.payment.state

    def order_failed(self, error: KioskError) -> Outcome:
        """No order could be made (backend down, nothing due ...): nobody could have paid."""
        with self._lock:
            if self.outcome is None:
                self._journal("failed")
                self.outcome = Outcome(
                    ok=False,
                    title_zh="未能发起缴费",
                    title_en="The payment could not be started",
                    message_zh=f"{error.message_zh}。未生成缴费订单，您没有被扣款，请稍后再试。",
                    message_en=f"{error.message_en}. No payment order was made and nothing was charged; please try again later.",
                    reference=self.txn,
                )
            return self.outcome

    # --- watching ---------------------------------------------------------------------------

    def poll(self) -> Outcome | None:
        """Look at the order once. Blocking. An Outcome when the payment is over, else None."""
        with self._lock:
            if self.outcome is not None:
                return self.outcome
            state = self.payment.refresh()
            if state is PayState.PAID:
                return self._paid()
            if state in (PayState.CLOSED, PayState.EXPIRED):
                return self._not_paid(timed_out=True)
            if state is PayState.UNKNOWN and self.payment.unknown_for() >= self.unknown_grace_s:
                return self._unconfirmed()
            if state is PayState.UNPAID and self.seconds_left() <= 0:
                return self.time_out()
            return None

    def wait(self, timeout: float, interval: float = POLL_INTERVAL_S) -> Outcome | None:
        """Poll until the payment is over or ``timeout`` passes (scripts; the screen polls itself)."""
        end = time.monotonic() + timeout
        while True:
            outcome = self.poll()
            if outcome is not None or time.monotonic() >= end:
                return outcome
            time.sleep(interval)

    def cancel(self) -> Outcome:
        """取消: close the order. If the resident paid meanwhile, that is a payment. Blocking."""
        return self._close(timed_out=False)

    def time_out(self) -> Outcome:
        """The terminal's payment window is over: close the order the same way. Blocking."""
        return self._close(timed_out=True)

    def abandon(self) -> None:
        """The session ended mid-payment (timeout, card taken away): settle what can be settled.

        Nothing is printed (the resident has gone); a payment that went through is journaled,
        an unpaid order is closed, an unknown one is left ``paid_unconfirmed`` for settling.
        """
        try:
            if self.payment.order is not None:
                self._close(timed_out=True, quiet=True)
        except KioskError as e:
            log.warning("payment %s abandoned: %s", self.txn, e)

    def _close(self, *, timed_out: bool, quiet: bool = False) -> Outcome:
        with self._lock:
            if self.outcome is not None:
                return self.outcome
            if self.payment.order is None:
                self._journal("cancelled")
                self.outcome = Outcome(
                    ok=False, title_zh="已取消缴费", title_en="Payment cancelled",
                    message_zh="未生成缴费订单，您没有被扣款。", message_en="No order was made; nothing was charged.",
                    reference=self.txn,
                )
                return self.outcome
            state = self.payment.close()
            if state is PayState.PAID:
                return self._paid(print_receipt=not quiet)
            if state is PayState.UNKNOWN:
                return self._unconfirmed()
            return self._not_paid(timed_out=timed_out)

    # --- endings (called under the lock, once) ----------------------------------------------

    def _paid(self, print_receipt: bool = True) -> Outcome:
        self._journal("completed")
        amount = yuan(self._amount_fen())
        self.outcome = Outcome(
            ok=True,
            title_zh="缴费成功",
            title_en="Payment received",
            message_zh=f"已收到您的付款 {amount}。请取走缴费凭证，凭证上的流水号可用于查询。",
            message_en=f"Your payment of {amount} was received. Please take your receipt; its number is your proof.",
            reference=self.txn,
        )
        if print_receipt:
            self.outcome = self.print_certificate()
        return self.outcome

    def _not_paid(self, *, timed_out: bool) -> Outcome:
        self._journal("cancelled")
        self.outcome = Outcome(
            ok=False,
            title_zh="支付超时，订单已关闭" if timed_out else "已取消缴费",
            title_en="Time is up; the order was closed" if timed_out else "Payment cancelled",
            message_zh="订单已关闭，您没有被扣款。如需缴费，请重新办理。",
            message_en="The order is closed and nothing was charged. Start again to pay.",
            reference=self.txn,
        )
        return self.outcome

    def _unconfirmed(self) -> Outcome:
        self._journal("paid_unconfirmed")
        self.outcome = Outcome(
            ok=False,
            title_zh="支付结果确认中",
            title_en="Confirming your payment",
            message_zh=(
                "网络中断，暂时无法确认支付结果。请勿重复缴费。如已付款，款项会在网络恢复后自动核实入账；"
                "如未入账，将原路退回。请记下参考号，可拨打 12345 或到服务窗口查询。"
            ),
            message_en=(
                "The network is down, so the payment cannot be confirmed yet. Do not pay again. If you paid, "
                "it is checked and credited automatically once the network is back, or refunded. Keep the "
                "reference number; call 12345 or ask at a service window."
            ),
            reference=self.txn,
        )
        return self.outcome

    # --- receipt ----------------------------------------------------------------------------

    def print_certificate(self) -> Outcome:
        """Print the receipt of a paid order; one job per session, so a retry never prints twice.

        (Named like the certificate flows' method: the result screen's 重新打印 calls it.)
        """
        with self._lock:
            if self.payment.state is not PayState.PAID:
                raise JourneyError("no paid order to print a receipt for")
            paid = Outcome(
                ok=True, title_zh="缴费成功", title_en="Payment received",
                message_zh=f"已收到您的付款 {yuan(self._amount_fen())}。请取走缴费凭证。",
                message_en=f"Your payment of {yuan(self._amount_fen())} was received. Please take your receipt.",
                reference=self.txn,
            )
            try:
                if self._print_job is None:
                    self._print_job = PrintJob(job_id=f"{self.txn}-receipt", receipt=self._receipt())
                printer = self.journey.ports.devices.device("printer")
                if printer is None:
                    raise KioskError("no printer configured", message_zh="本终端未配置打印机",
                                     message_en="This terminal has no printer")
                self._print_job.attempts += 1
                printer.print_job(self._print_job)
            except KioskError as e:
                log.warning("receipt %s not printed: %s", self.txn, e)
                # the payment stands whatever the printer does; only the paper is missing
                self.outcome = Outcome(
                    ok=True,
                    title_zh="缴费成功，凭证未打印",
                    title_en="Paid; the receipt was not printed",
                    message_zh=f"已收到您的付款 {yuan(self._amount_fen())}，请勿重复缴费。{e.message_zh}。"
                               "您可以重新打印，或凭参考号到窗口补打。",
                    message_en=f"Your payment of {yuan(self._amount_fen())} was received; do not pay again. "
                               f"{e.message_en}. You can print again, or show the reference number at a window.",
                    reference=self.txn,
                    can_retry="print" if e.retryable else "",
                )
                return self.outcome
            self.outcome = paid
            return paid

    def _receipt(self) -> Receipt:
        assert self.charge is not None and self.payment.order is not None
        order = self.payment.order
        cfg = self.journey.ports.config
        return Receipt(
            title="缴费凭证",
            transaction_no=self.txn,
            issued_at=self.journey.ports.now().strftime("%Y-%m-%d %H:%M:%S"),
            terminal_id=cfg.terminal.id,
            lines=(
                ("缴费事项", self.item.name_zh),
                ("收款单位", self.charge.payee_zh),
                *self.charge.lines,
                ("订单号", self.payment.order_no),
                ("支付时间", str(order.get("paid_at") or "")[:19].replace("T", " ")),
            ),
            amount_fen=self._amount_fen(),
            # what staff scan to look the payment up: order and transaction, nothing personal
            qr_payload=f"ZWFW-PAY:{self.payment.order_no}:{self.txn}:{self._amount_fen()}",
            footer=("请妥善保管本凭证。", "以收款单位入账为准。"),
        )

    def _amount_fen(self) -> int:
        if self.payment.order is not None:
            return int(self.payment.order["amount_fen"])
        return self.charge.amount_fen if self.charge else 0

    def _journal(self, status: str) -> None:
        name, masked_id = self._journal_who()
        self.journey.ports.journal.record(
            transaction_no=self.txn,
            item_id=self.item.id,
            item_name=self.item.name_zh,
            masked_name=name,
            masked_id=masked_id,
            amount_fen=self._amount_fen() if self.payment.order is not None else None,
            order_no=self.payment.order_no or None,
            status=status,
        )


class UtilityPaymentFlow(PaymentFlow):
    """水费 / 电费 / 燃气费: account number -> bills due -> pay."""

    def __init__(self, item: ServiceItem, journey: Journey, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(item, journey, clock)
        self.utility = str((item.params or {}).get("utility", ""))
        if self.utility not in UTILITY_NAMES:
            raise JourneyError(f"item {item.id}: unknown utility {self.utility!r}")

    def load_bill(self, account_no: str) -> Charge:
        """The bills of an account. Blocking. A wrong number raises with a resident message."""
        lo, hi = ACCOUNT_DIGITS
        if not (account_no.isdigit() and lo <= len(account_no) <= hi):
            raise JourneyError(
                "account number has the wrong length",
                message_zh=f"户号为{lo}至{hi}位数字，请核对后重新输入",
                message_en=f"An account number has {lo} to {hi} digits; please check it",
            )
        if self.payment.order is not None:
            raise JourneyError("this session already has a payment order")
        try:
            statement = self.journey.ports.backend.bill(self.utility, account_no)
        except BackendError as e:
            if e.code == "account_not_found":
                raise JourneyError(str(e), message_zh="未查询到该户号，请核对后重新输入",
                                   message_en="No such account number; please check it") from e
            raise
        session = self.journey.session
        session.data["account_no"] = account_no
        session.data["bill"] = statement
        due = [b for b in statement["bills"] if b["status"] == "due"]
        name_zh, name_en = UTILITY_NAMES[self.utility]
        self.charge = Charge(
            title_zh=str(statement.get("utility_zh") or name_zh),
            payee_zh=str(statement.get("company_zh", "")),
            payee_en=f"The {name_en} company",
            payer_masked=str(statement.get("holder_masked_name", "")),
            lines=(
                ("户号", mask_number(account_no)),
                ("户名", str(statement.get("holder_masked_name", ""))),
                ("账期", _periods_text(due)),
            ),
            amount_fen=int(statement.get("total_due_fen", 0)),
            table_header=("账期", "用量", "金额", "状态"),
            table_rows=tuple(
                (str(b["period"]), f"{b['usage']}{b['unit_zh']}", yuan(int(b["amount_fen"])),
                 "待缴" if b["status"] == "due" else "已缴")
                for b in statement["bills"]
            ),
            payable=bool(due),
            reason_zh="" if due else "该户号没有待缴账单，无需缴费",
            reason_en="" if due else "Nothing is due on this account",
        )
        return self.charge

    def _order_request(self) -> dict:
        session = self.journey.session
        bill = session.data["bill"]
        return {
            "purpose": "bill",
            "utility": self.utility,
            "account_no": session.data["account_no"],
            # exactly the bills the resident confirmed, not whatever is due when the order lands
            "bill_ids": [b["bill_id"] for b in bill["bills"] if b["status"] == "due"],
        }

    def _journal_who(self) -> tuple[str, str]:
        return (self.charge.payer_masked if self.charge else "", "")


class ContributionPaymentFlow(PaymentFlow):
    """城乡居民养老 / 城乡居民医保 / 灵活就业养老: the identified resident picks a grade."""

    def __init__(self, item: ServiceItem, journey: Journey, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(item, journey, clock)
        self.scheme = SCHEMES.get(item.flow or "", "")
        if not self.scheme:
            raise JourneyError(f"item {item.id}: no contribution scheme for flow {item.flow!r}")
        self.choice: ContributionChoice | None = None

    def load_options(self) -> ContributionChoice:
        """The year and grades on offer. Blocking."""
        identity = self.journey.session.identity
        if identity is None:
            raise JourneyError("no resident identified")
        opts = self.journey.ports.backend.contribution_options(identity.id_number, self.scheme)
        self.journey.session.data["options"] = opts
        payable = [y["year"] for y in opts.get("years", []) if not y.get("paid")]
        self.choice = ContributionChoice(
            scheme_zh=str(opts.get("scheme_zh", self.item.name_zh)),
            masked_name=identity.masked_name,
            masked_id=str(opts.get("masked_id") or identity.masked_id),
            eligible=bool(opts.get("eligible")) and bool(payable),
            reason_zh=str(opts.get("reason_zh", "")),
            year=payable[0] if payable else None,
            grades=tuple(Grade(str(g["grade_id"]), int(g["amount_fen"]), str(g["label_zh"])) for g in opts.get("grades", [])),
            months_max=max(1, int(opts.get("months_max", 1))),
        )
        if not self.choice.eligible:
            self.charge = Charge(
                title_zh=self.choice.scheme_zh, payee_zh=CONTRIBUTION_PAYEE[0], payee_en=CONTRIBUTION_PAYEE[1],
                payer_masked=self.choice.masked_name, lines=(), amount_fen=0, payable=False,
                reason_zh=self.choice.reason_zh or "暂不能缴费，请到窗口咨询",
                reason_en="This contribution cannot be paid here now; please ask at a service window",
            )
        return self.choice

    def choose(self, grade_id: str, months: int = 1) -> Charge:
        """The resident picked a grade (and, for flexible workers, how many months)."""
        if self.choice is None or not self.choice.eligible:
            raise JourneyError("no payable contribution loaded")
        if self.payment.order is not None:
            raise JourneyError("this session already has a payment order")
        grade = next((g for g in self.choice.grades if g.grade_id == grade_id), None)
        if grade is None:
            raise JourneyError(f"no grade {grade_id!r} on offer")
        months = max(1, min(int(months), self.choice.months_max))
        monthly = self.scheme == "pension_flexible"
        lines = [
            ("缴费人", self.choice.masked_name),
            ("证件号码", self.choice.masked_id),
            ("险种", self.choice.scheme_zh),
            ("缴费年度", f"{self.choice.year}年"),
            ("缴费档次", grade.label_zh),
        ]
        if monthly:
            lines.append(("缴费月数", f"{months}个月"))
        self.journey.session.data["choice"] = {"grade_id": grade.grade_id, "months": months if monthly else 1}
        self.charge = Charge(
            title_zh=self.choice.scheme_zh,
            payee_zh=CONTRIBUTION_PAYEE[0],
            payee_en=CONTRIBUTION_PAYEE[1],
            payer_masked=self.choice.masked_name,
            lines=tuple(lines),
            amount_fen=grade.amount_fen * (months if monthly else 1),
        )
        return self.charge

    def _order_request(self) -> dict:
        session = self.journey.session
        assert session.identity is not None and self.choice is not None
        chosen = session.data["choice"]
        return {
            "purpose": "contribution",
            "id_number": session.identity.id_number,
            "scheme": self.scheme,
            "year": self.choice.year,
            "grade_id": chosen["grade_id"],
            "months": chosen["months"],
        }

    def _journal_who(self) -> tuple[str, str]:
        if self.choice is not None:
            return self.choice.masked_name, self.choice.masked_id
        identity = self.journey.session.identity
        return (identity.masked_name, identity.masked_id) if identity else ("", "")


def _periods_text(bills: list[dict]) -> str:
    periods = sorted(str(b["period"]) for b in bills)
    if not periods:
        return "无待缴账单"
    if len(periods) == 1:
        return periods[0]
    return f"{periods[0]} 至 {periods[-1]}（共{len(periods)}期）"
