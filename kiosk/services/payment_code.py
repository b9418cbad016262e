"""付款码支付 (被扫): the resident shows their phone's payment code instead of scanning ours.

The session's one order (``PaymentFlow.payment``) is paid with the code by the backend. The
rules, each for a way money goes wrong at a counter:

* **One payment per attempt.** Each code shown is one attempt, asked for with the order's
  idempotency key and the attempt's number (``<txn>-order-code-<n>``): a resend after a lost
  answer is the same attempt, never a second charge; a new code is a new attempt on the same
  order, and the backend pays an order once, by QR code or by payment code.
* **A deadline on the answer.** The answer must come within ``ANSWER_DEADLINE_S``. If it does
  not, or says the payer is still confirming on the phone (``paying``: entering the password),
  the terminal asks where the attempt stands every ``QUERY_EVERY_S``, for up to
  ``PENDING_MAX_S`` from the first request.
* **Never charged without a receipt.** Whatever is still unknown then is reversed (撤销): the
  order is closed and anything the code paid goes back. A reversal whose answer is lost too
  leaves the payment ``paid_unconfirmed``, settled like every payment in doubt
  (``payment_order.settle_unconfirmed``, which reverses a code payment instead of keeping it).
* **Paid is paid.** A ``paid`` answer ends the payment as the QR path does: journaled
  ``completed``, receipt printed once.
* A refusal (insufficient funds, a used or expired code) charges nothing and leaves the order
  open: the resident may show another code or scan the order's QR code.

Blocking (HTTP, waits): ``CodePayment.pay`` runs on a worker; ``stage`` is what the screen
shows meanwhile. No Kivy here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kiosk.errors import BackendError, BackendUnavailableError, KioskError
from kiosk.identity import mask_code
from kiosk.money import yuan
from kiosk.services.journey import Outcome

if TYPE_CHECKING:
    from kiosk.hardware.scanner_frame import ScannedCode
    from kiosk.services.payment_order import PaymentFlow

log = logging.getLogger(__name__)

#: the answer to a payment request must come within this long
ANSWER_DEADLINE_S = 8.0
#: how long a payer may take to confirm on the phone (enter the password), from the request
PENDING_MAX_S = 30.0
#: how often the terminal asks while the payer confirms or the answer is missing
QUERY_EVERY_S = 2.0

#: the backend's reason for a refused attempt -> what the resident is told
REFUSALS: dict[str, tuple[str, str]] = {
    "insufficient_funds": ("付款失败：余额不足。请更换付款方式后重新出示付款码，或扫描订单二维码支付",
                           "Payment refused: not enough money. Change the payment method and show the code "
                           "again, or scan the order's QR code"),
    "code_used": ("此付款码已使用过。请在手机上刷新付款码后重新出示",
                  "This payment code has been used. Refresh it on your phone and show it again"),
    "code_expired": ("付款码已过期。请在手机上刷新付款码后重新出示",
                     "This payment code has expired. Refresh it on your phone and show it again"),
    "code_invalid": ("无法识别此付款码。请出示微信、支付宝或银行App的付款码",
                     "This payment code is not recognised. Show the payment code of WeChat, Alipay or your bank's app"),
    "payer_cancelled": ("您已在手机上取消付款，未扣款。如需缴费，请重新出示付款码",
                        "You cancelled on your phone; nothing was charged. Show the code again to pay"),
}
DEFAULT_REFUSAL = ("付款未成功，未扣款。请重新出示付款码，或扫描订单二维码支付",
                   "The payment did not go through and nothing was charged. Show the code again or scan the "
                   "order's QR code")
NOT_A_PAYMENT_CODE = ("这不是付款码。请打开微信、支付宝或银行App的付款码，对准扫码窗口",
                      "This is not a payment code. Open the payment code in WeChat, Alipay or your bank's app")


class Stage:
    """What the payment is doing now, for the screen (read from another thread)."""

    ASKING = "asking"  # the request is out, its answer not yet in
    CONFIRMING = "confirming"  # the payer is confirming on the phone (entering the password)
    CHECKING = "checking"  # the answer did not come: asking where the payment stands
    REVERSING = "reversing"  # nothing certain in time: 撤销
    DONE = "done"


@dataclass(frozen=True)
class CodeResult:
    """How one attempt ended. ``outcome`` ends the item (paid, reversed, in doubt); without one
    the order is still open and ``message_*`` says why this code did not pay."""

    outcome: Outcome | None
    message_zh: str = ""
    message_en: str = ""
    reason: str = ""


def is_payment_code(text: str) -> bool:
    """A payment code as the payers' apps show it: 16 to 24 digits."""
    text = text.strip()
    return text.isascii() and text.isdigit() and 16 <= len(text) <= 24


class CodePayment:
    """Pays the flow's order with payment codes, one attempt at a time."""

    def __init__(
        self,
        flow: PaymentFlow,
        *,
        clock: Callable[[], float] = time.monotonic,
        answer_deadline_s: float = ANSWER_DEADLINE_S,
        pending_max_s: float = PENDING_MAX_S,
        query_every_s: float = QUERY_EVERY_S,
    ) -> None:
        self.flow = flow
        self.clock = clock
        self.answer_deadline_s = answer_deadline_s
        self.pending_max_s = pending_max_s
        self.query_every_s = query_every_s
        self.stage = Stage.DONE
        self.attempts = 0
        self._busy = threading.Lock()
        self._stop = threading.Event()

    @property
    def backend(self):
        return self.flow.journey.ports.backend

    def stop(self) -> None:
        """The session is over: stop waiting (the flow's own ending settles the order)."""
        self._stop.set()

    def pay(self, code: ScannedCode) -> CodeResult:
        """One attempt with ``code``. Blocking, up to about ``pending_max_s`` plus a reversal."""
        if not is_payment_code(code.text):
            return CodeResult(None, *NOT_A_PAYMENT_CODE, reason="not_a_payment_code")
        if not self._busy.acquire(blocking=False):
            return CodeResult(None, "正在付款，请稍候", "A payment is in progress, please wait", reason="busy")
        try:
            return self._pay(code.text.strip())
        finally:
            self.stage = Stage.DONE
            self._busy.release()

    # --- one attempt ------------------------------------------------------------------------

    def _pay(self, auth_code: str) -> CodeResult:
        flow = self.flow
        with flow._lock:
            if flow.outcome is not None:
                return CodeResult(flow.outcome)
            if flow.payment.order is None:
                flow.start_payment()  # the session's one order (journaled before it is made)
            order_no = flow.payment.order_no
            self.attempts += 1
            key = f"{flow.payment.idempotency_key}-code-{self.attempts}"
            # the payment's own clock governs now: the QR code's window must not close the order
            if flow.deadline is not None:
                flow.deadline = max(flow.deadline, self.clock() + self.pending_max_s + self.answer_deadline_s)
        started = self.clock()
        self.stage = Stage.ASKING
        log.info("payment %s: payment code %s shown (attempt %d)", flow.txn, mask_code(auth_code), self.attempts)
        try:
            answer = self.backend.pay_with_code(order_no, auth_code, key, deadline_s=self.answer_deadline_s)
        except BackendUnavailableError as e:
            log.warning("payment %s: no answer to the payment code within %.0f s: %s", flow.txn,
                        self.answer_deadline_s, e)
            answer = None
        except BackendError as e:
            if e.code == "order_paid":  # paid meanwhile (the QR code): that payment stands
                return self._take_order_state()
            return CodeResult(None, *REFUSALS.get(e.code, DEFAULT_REFUSAL), reason=e.code)
        while True:
            if answer is not None:
                result = self._settled(answer)
                if result is not None:
                    return result
                self.stage = Stage.CONFIRMING
            else:
                self.stage = Stage.CHECKING
            if self.clock() - started >= self.pending_max_s or self._stop.is_set():
                return self._reverse(order_no)
            self._stop.wait(min(self.query_every_s, max(0.0, started + self.pending_max_s - self.clock())))
            try:
                answer = self.backend.code_payment_status(order_no)
            except BackendUnavailableError as e:
                log.info("payment %s: payment code status unknown: %s", flow.txn, e)
                answer = None

    def _settled(self, answer: dict) -> CodeResult | None:
        """The result an answer settles, or None while the payer is still confirming."""
        status = answer["status"]
        if status == "paying":
            return None
        flow = self.flow
        with flow._lock:
            if flow.outcome is not None:  # the session ended meanwhile: its ending stands
                return CodeResult(flow.outcome)
            if status == "paid" or answer["order"]["status"] == "paid":
                flow.payment._take(answer["order"])
                return CodeResult(flow._paid())
            if status == "reversed":
                flow.payment._take(answer["order"])
                return CodeResult(self._reversed(bool(answer.get("refunded"))))
            if answer["order"]["status"] in ("closed", "expired"):
                flow.payment._take(answer["order"])
                return CodeResult(flow._not_paid(timed_out=True))
        reason = str(answer.get("reason") or "")
        log.info("payment %s: payment code refused (%s)", flow.txn, reason or status)
        return CodeResult(None, *REFUSALS.get(reason, DEFAULT_REFUSAL), reason=reason or status)

    def _take_order_state(self) -> CodeResult:
        outcome = self.flow.poll()
        return CodeResult(outcome) if outcome is not None else CodeResult(None, *DEFAULT_REFUSAL)

    def _reverse(self, order_no: str) -> CodeResult:
        """Nothing certain in time: 撤销. Paid or not, the order is closed and nothing stays
        charged; a reversal that gets no answer leaves the payment in doubt, to settle later."""
        flow = self.flow
        self.stage = Stage.REVERSING
        log.warning("payment %s: payment code not settled within %.0f s: reversing order %s", flow.txn,
                    self.pending_max_s, order_no)
        try:
            answer = self.backend.reverse_code_payment(order_no, f"reverse-{order_no}")
        except BackendUnavailableError as e:
            log.warning("payment %s: the reversal got no answer (%s): left to settle", flow.txn, e)
            with flow._lock:
                if flow.outcome is not None:
                    return CodeResult(flow.outcome)
                flow.payment._lost(e)
                flow._journal("paid_unconfirmed")
                flow.outcome = Outcome(
                    ok=False,
                    title_zh="付款结果确认中",
                    title_en="Confirming your payment",
                    message_zh=("网络中断，暂时无法确认付款结果，本次付款已申请撤销。请勿重复付款。"
                                "如已扣款，将在网络恢复后自动撤销并原路退回。请记下参考号，可拨打 12345 或到服务窗口查询。"),
                    message_en=("The network is down, so the payment cannot be confirmed; it has been asked to be "
                                "reversed. Do not pay again. If money was taken, it is given back automatically once "
                                "the network is back. Keep the reference number; call 12345 or ask at a window."),
                    reference=flow.txn,
                    notice=True,
                )
                return CodeResult(flow.outcome)
        except KioskError as e:  # the backend refused to reverse: keep it in doubt, settle later
            log.error("payment %s: reversal refused: %s", flow.txn, e)
            answer = None
        if answer is None:
            with flow._lock:
                if flow.outcome is None:
                    flow._unconfirmed()  # journals paid_unconfirmed
                return CodeResult(flow.outcome)
        with flow._lock:
            if flow.outcome is not None:
                return CodeResult(flow.outcome)
            flow.payment._take(answer["order"])
            return CodeResult(self._reversed(bool(answer.get("refunded"))))

    def _reversed(self, refunded: bool) -> Outcome:
        """Called under the flow's lock, once."""
        flow = self.flow
        flow._journal("cancelled")
        amount = yuan(flow._amount_fen())
        flow.outcome = Outcome(
            ok=False,
            title_zh="付款已撤销",
            title_en="The payment was reversed",
            message_zh=(f"付款未能及时确认，订单已撤销。已扣的 {amount} 将原路退回，请勿重复付款。如需缴费，请重新办理。"
                        if refunded else "付款未能及时确认，订单已撤销，您没有被扣款。如需缴费，请重新办理。"),
            message_en=(f"The payment could not be confirmed in time and the order was reversed. The {amount} taken "
                        "goes back to you; do not pay again. Start again to pay."
                        if refunded else "The payment could not be confirmed in time and the order was reversed; "
                        "nothing was charged. Start again to pay."),
            reference=flow.txn,
            notice=True,
        )
        return flow.outcome



def for_flow(flow: PaymentFlow) -> CodePayment:
    """The session's code payment: one per flow, so attempt numbers (and so idempotency keys)
    are never reused however often the resident comes back to the payment code."""
    existing = flow.code_payment
    if existing is None:
        existing = flow.code_payment = CodePayment(flow)
    return existing
