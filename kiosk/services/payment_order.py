"""One payment order per session: create it once, watch it, close it, reconcile it.

The rule every method here serves is that a resident is never charged twice:

* the order is created with one idempotency key per session, so a retry after a lost answer
  gets the same order back and never a second one;
* once the terminal has an order it never asks for another in the same session, whatever
  happened to the first (a lost answer leaves the order "unknown", not "gone");
* 取消 and the terminal's own time limit close the order at the backend, and a close that the
  backend refuses because the resident paid meanwhile turns into a paid order;
* an order whose state the terminal could not learn is journaled ``paid_unconfirmed`` and
  settled later by ``settle_unconfirmed`` (asking the backend, closing it if it was not paid);
* the journal's intent ("paying") is on disk before an order is asked for, and the order's
  number before its QR code is shown: a store that refuses either stops the payment before
  anyone can pay, and a crash leaves a row that is settled like any payment in doubt.

``PaymentFlow`` is the pay path both 缴费 flows share (``kiosk.services.payments`` holds
what differs: bills or contribution grades): order -> watch -> paid, not paid or unknown.

Blocking (HTTP, printer): everything here runs on a worker thread or in a script.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from kiosk.errors import BackendError, BackendUnavailableError, JourneyError, KioskError, StoreError
from kiosk.money import yuan
from kiosk.receipt import PrintJob, Receipt
from kiosk.services.journey import Outcome

if TYPE_CHECKING:
    from kiosk.services.catalogue import ServiceItem
    from kiosk.services.journey import Journey
    from kiosk.services.payment_code import CodePayment
    from kiosk.services.ports import Backend, Journal

log = logging.getLogger(__name__)

#: how long the QR code stays up before the terminal closes the order (the backend allows more)
PAYMENT_WINDOW_S = 180.0
#: how often the terminal asks whether the resident has paid
POLL_INTERVAL_S = 2.0
#: how long the terminal keeps asking after losing the backend, before it tells the resident
#: plainly that the result is being confirmed and lets them go
UNKNOWN_GRACE_S = 30.0
#: the journal row that settles a ``paid_unconfirmed`` one carries this suffix
SETTLED_SUFFIX = "-R"


class PayState(StrEnum):
    NEW = "new"  # no order asked for yet
    UNPAID = "unpaid"  # the QR code is valid, nobody has paid
    PAID = "paid"
    CLOSED = "closed"
    EXPIRED = "expired"
    UNKNOWN = "unknown"  # the backend could not be asked: the resident may have paid


class PaymentOrder:
    """The session's one order, as far as the terminal knows it. Thread-safe."""

    def __init__(self, backend: Backend, idempotency_key: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.backend = backend
        self.idempotency_key = idempotency_key
        self.clock = clock
        self.order: dict | None = None
        self.state = PayState.NEW
        self.unknown_since: float | None = None
        self.lock = threading.RLock()

    @property
    def order_no(self) -> str:
        return str(self.order["order_no"]) if self.order else ""

    def unknown_for(self) -> float:
        """Seconds since the terminal lost sight of the order (0 while it can see it)."""
        return 0.0 if self.unknown_since is None else self.clock() - self.unknown_since

    def create(self, request: dict) -> dict:
        """The order for ``request``; the first one again if there already is one."""
        with self.lock:
            if self.order is not None:
                return self.order
            # a lost answer raises here; asking again later sends the same key, so the backend
            # hands back the order it may already have made instead of making a second one
            order = self.backend.create_order(request, idempotency_key=self.idempotency_key)
            self._take(order)
            return order

    def refresh(self) -> PayState:
        """Ask the backend once what became of the order."""
        with self.lock:
            if self.order is None or self.state in (PayState.PAID, PayState.CLOSED, PayState.EXPIRED):
                return self.state
            try:
                self._take(self.backend.reconcile_order(self.order_no))
            except BackendError as e:
                if not e.retryable:  # the backend answered no (unknown order ...): not a lost answer
                    raise
                self._lost(e)
            return self.state

    def close(self) -> PayState:
        """Close the order unless it was paid; PAID when the resident paid just before."""
        with self.lock:
            if self.order is None or self.state in (PayState.PAID, PayState.CLOSED, PayState.EXPIRED):
                return self.state
            try:
                # reconcile_order closes an unpaid order and turns "already paid" into the paid order
                self._take(self.backend.reconcile_order(self.order_no, close_unpaid=True))
            except BackendError as e:
                if not e.retryable:  # the backend answered no (unknown order ...): not a lost answer
                    raise
                self._lost(e)
            return self.state

    def _take(self, order: dict) -> None:
        self.order = order
        self.state = PayState(str(order["status"]))
        self.unknown_since = None

    def _lost(self, error: KioskError) -> None:
        log.warning("payment order %s: state unknown: %s", self.order_no, error)
        self.state = PayState.UNKNOWN
        if self.unknown_since is None:
            self.unknown_since = self.clock()


def pending_unconfirmed(journal: Journal, days: float = 30) -> list[dict]:
    """Journal rows still ``paid_unconfirmed``: no settling row recorded after them."""
    rows = journal.recent(days=days)
    settled = {r["transaction_no"].removesuffix(SETTLED_SUFFIX) for r in rows if r["transaction_no"].endswith(SETTLED_SUFFIX)}
    return [r for r in rows if r["status"] == "paid_unconfirmed" and r["order_no"] and r["transaction_no"] not in settled]


def settle_unconfirmed(journal: Journal, backend: Backend) -> list[dict]:
    """Ask the backend about every unconfirmed payment and journal what really happened.

    An order still unpaid is closed first, so it cannot be paid later behind the terminal's
    back. An order a payment code may have paid (its attempt ``paid`` or still ``paying``) is
    reversed instead (撤销, ``kiosk.services.payment_code``): the resident left without a
    receipt, so the money goes back rather than being kept. Each settled payment gets a journal row ``<transaction_no>-R`` (``completed`` when it
    was paid, ``cancelled`` when it was not): the journal keeps both the doubt and its answer.
    Payments the backend still cannot answer for stay pending. Returns the rows recorded.
    """
    settled: list[dict] = []
    for row in pending_unconfirmed(journal):
        try:
            code = backend.code_payment_status(row["order_no"])
            if code["status"] in ("paid", "paying"):
                order = backend.reverse_code_payment(row["order_no"], f"reverse-{row['order_no']}")["order"]
            else:
                order = backend.reconcile_order(row["order_no"], close_unpaid=True)
        except BackendUnavailableError as e:
            log.info("payment %s still unconfirmed: %s", row["transaction_no"], e)
            continue
        status = "completed" if order["status"] == "paid" else "cancelled"
        entry = {
            "transaction_no": row["transaction_no"] + SETTLED_SUFFIX,
            "item_id": row["item_id"],
            "item_name": row["item_name"],
            "masked_name": row["masked_name"],
            "masked_id": row["masked_id"],
            "amount_fen": row["amount_fen"],
            "order_no": row["order_no"],
            "status": status,
        }
        journal.record(**entry)
        log.info("payment %s settled as %s", row["transaction_no"], status)
        settled.append(entry)
    return settled


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
    settled: bool = False  # not payable because nothing is owed (all paid), not because of a rule
    reason_zh: str = ""  # why nothing can be paid, when not payable
    reason_en: str = ""


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
        self.txn = journey.session.matter_no
        # one key per session: whatever goes wrong, this session can only ever have one order
        self.payment = PaymentOrder(journey.ports.backend, f"{self.txn}-order", clock)
        self._print_job: PrintJob | None = None
        self._lock = threading.RLock()  # poll, cancel and time-out may race on two workers
        #: paying with the resident's 付款码 instead of the QR code: made on first use
        #: (``kiosk.services.payment_code.for_flow``), one per flow
        self.code_payment: CodePayment | None = None

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
            if self.payment.order is None:
                self._settle_earlier()
                self._intent()  # before the order exists: a store that cannot take it stops here
            fresh = self.payment.order is None
            self.payment.create(self._order_request())
            if fresh:
                self._intent_order()  # the order number, before anyone sees the QR code
            if self.deadline is None:
                self.deadline = self.clock() + self.window_s
            return self.qr_view()

    def _intent(self, *, order_no: str | None = None, amount_fen: int | None = None) -> None:
        name, masked_id = self._journal_who()
        self.journey.ports.journal.begin(
            transaction_no=self.txn, item_id=self.item.id, item_name=self.item.name_zh,
            masked_name=name, masked_id=masked_id, status="paying", order_no=order_no, amount_fen=amount_fen,
        )

    def _intent_order(self) -> None:
        """Journal the new order's number; if the store refuses, close the order unseen (no QR
        code was shown, so nobody can have paid) and stop."""
        try:
            self._intent(order_no=self.payment.order_no, amount_fen=self._amount_fen())
        except StoreError as e:
            log.error("payment %s: order %s closed unseen: the store refused its journal entry: %s",
                      self.txn, self.payment.order_no, e)
            try:
                self.payment.close()
            except KioskError as closing:
                log.warning("payment %s: closing order %s failed: %s", self.txn, self.payment.order_no, closing)
            raise

    def _settle_earlier(self) -> None:
        """Settle earlier unconfirmed payments before a new order: an old order still open is
        closed first, so the same bill can never be paid through two orders."""
        ports = self.journey.ports
        try:
            settle_unconfirmed(ports.journal, ports.backend)
        except KioskError as e:  # the new payment does not wait on the old doubt
            log.warning("settling earlier payments failed: %s", e)

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
                self.outcome = Outcome.failed(
                    error, self.txn, title=("未能发起缴费", "The payment could not be started"),
                    then=("未生成缴费订单，您没有被扣款，请稍后再试。",
                          "No payment order was made and nothing was charged; please try again later."),
                )
            return self.outcome

    def nothing_to_pay(self) -> Outcome:
        """The confirm screen found nothing payable (bill settled, not in the scheme). Blocking."""
        with self._lock:
            if self.outcome is None:
                assert self.charge is not None and not self.charge.payable
                settled = self.charge.settled
                self._journal("completed" if settled else "failed")
                self.outcome = Outcome(
                    ok=settled,
                    title_zh="无需缴费" if settled else "暂不能在本终端缴费",
                    title_en="Nothing to pay" if settled else "This cannot be paid here now",
                    message_zh=self.charge.reason_zh + ("" if settled else "。如有疑问，请到服务窗口咨询或拨打 12333。"),
                    message_en=self.charge.reason_en + ("" if settled else ". Ask at a service window or call 12333."),
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
            notice=True,
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
        self.journey.ports.journal.settle(  # never raises: a refused write is kept to write later
            transaction_no=self.txn,
            item_id=self.item.id,
            item_name=self.item.name_zh,
            masked_name=name,
            masked_id=masked_id,
            amount_fen=self._amount_fen() if self.payment.order is not None else None,
            order_no=self.payment.order_no or None,
            status=status,
        )
