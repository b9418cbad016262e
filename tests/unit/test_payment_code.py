"""付款码支付 rules with fakes (no HTTP, no printer, a fake clock): never charged twice, never
charged without a receipt, a lost answer followed by a status query and, if still unknown, a
reversal; a lost reversal settled the way payments are settled today."""

from __future__ import annotations

import pytest

from kiosk.config import load_config
from kiosk.errors import BackendError, BackendUnavailableError
from kiosk.hardware.scanner_frame import ScannedCode
from kiosk.services.catalogue import load_catalogue
from kiosk.services.journey import Journey, Ports
from kiosk.services.payment_code import CodePayment, Stage
from kiosk.services.payment_order import Charge, PayState, pending_unconfirmed, settle_unconfirmed
from tests.support.fakes import FakeOutbox

CODE = ScannedCode("134527980012345678")
AMOUNT = 3850


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class FakeBackend:
    """A payment channel scripted per call: each answer is a dict, an exception, or a callable."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.order = {"order_no": "PO20260601000001", "purpose": "bill", "description_zh": "水费", "amount_fen": AMOUNT,
                      "status": "unpaid", "qr_payload": "https://pay/q/PO20260601000001", "created_at": "x",
                      "expires_at": "y", "paid_at": None}
        self.pays: list[tuple[str, str, str]] = []  # (order, code, key)
        self.pay_answers: list = []
        self.status_answers: list = []
        self.reverse_answers: list = []
        self.reversals: list[str] = []
        self.queries = 0
        self.seconds_per_query = 2.0  # the fake clock moves as the terminal waits

    def create_order(self, request, idempotency_key):
        return dict(self.order)

    def reconcile_order(self, order_no, *, close_unpaid=False):
        if close_unpaid and self.order["status"] == "unpaid":
            self.order["status"] = "closed"
        return dict(self.order)

    def _answer(self, queue, default):
        item = queue.pop(0) if queue else default
        if isinstance(item, Exception):
            raise item
        return item(self) if callable(item) else item

    def attempt(self, status, reason="", refunded=False):
        return {"order_no": self.order["order_no"], "status": status, "reason": reason, "refunded": refunded,
                "order": dict(self.order)}

    def pay_with_code(self, order_no, auth_code, idempotency_key, *, deadline_s):
        self.pays.append((order_no, auth_code, idempotency_key))
        return self._answer(self.pay_answers, lambda b: b.paid())

    def code_payment_status(self, order_no):
        self.queries += 1
        self.clock.t += self.seconds_per_query
        return self._answer(self.status_answers, lambda b: b.attempt("none"))

    def reverse_code_payment(self, order_no, idempotency_key):
        self.reversals.append(idempotency_key)
        return self._answer(self.reverse_answers, lambda b: b.reversed())

    # what the channel does
    def paid(self):
        self.order |= {"status": "paid", "paid_at": "2026-06-01T09:30:00+08:00"}
        return self.attempt("paid")

    def reversed(self):
        refunded = self.order["status"] == "paid"
        self.order["status"] = "closed"
        return self.attempt("reversed", refunded=refunded)


class FakePrinter:
    def __init__(self) -> None:
        self.jobs: list[str] = []
        self.jobs_completed = 0

    def print_job(self, job) -> None:
        if not job.printed:
            self.jobs.append(job.job_id)
            job.printed = True
            self.jobs_completed += 1


class FakeDevices:
    def __init__(self) -> None:
        self.printer = FakePrinter()

    def device(self, name):
        return self.printer if name == "printer" else None

    def unavailable_reason(self, needs):
        return None


class FakeJournal:
    def __init__(self) -> None:
        self.rows: dict[str, dict] = {}
        self.history: list[tuple[str, str]] = []

    def begin(self, **entry):
        self.rows.setdefault(entry["transaction_no"], {}).update(entry)

    def settle(self, **entry):
        self.record(**entry)
        return True

    def record(self, **entry):
        self.rows.setdefault(entry["transaction_no"], {}).update(entry)
        self.history.append((entry["transaction_no"], entry["status"]))

    def recent(self, days=30):
        return [dict({"amount_fen": None, "order_no": None, "masked_name": "", "masked_id": ""}, **r)
                for r in self.rows.values()]


@pytest.fixture
def kit():
    clock = Clock()
    backend = FakeBackend(clock)
    devices, journal = FakeDevices(), FakeJournal()
    ports = Ports(config=load_config(), catalogue=load_catalogue(), backend=backend, outbox=FakeOutbox(), journal=journal,
                  devices=devices, secret=b"k" * 32)
    journey = Journey(ports)
    journey.choose("water_bill")
    journey.proceed()
    flow = journey.flow
    flow.clock = flow.payment.clock = clock
    flow.charge = Charge(title_zh="水费", payee_zh="宁阳县自来水有限公司", payee_en="water", payer_masked="张**",
                         lines=(), amount_fen=AMOUNT)
    flow._settle_earlier = lambda: None
    journey.session.data |= {"account_no": "12345678", "bill": {"bills": []}}
    flow.start_payment()
    payer = CodePayment(flow, clock=clock, answer_deadline_s=8, pending_max_s=30, query_every_s=2)
    payer._stop.wait = lambda _s: None  # waits are the fake clock's business
    return type("Kit", (), {"clock": clock, "backend": backend, "journal": journal, "printer": devices.printer,
                            "flow": flow, "payer": payer, "journey": journey})


def statuses(kit) -> list[str]:
    return [s for txn, s in kit.journal.history if txn == kit.flow.txn]


def test_paid_at_once_prints_one_receipt_and_journals_completed(kit):
    result = kit.payer.pay(CODE)
    assert result.outcome.ok and result.outcome.title_zh == "缴费成功"
    assert kit.printer.jobs == [f"{kit.flow.txn}-receipt"]
    assert statuses(kit) == ["completed"] and kit.backend.reversals == []
    assert kit.flow.payment.state is PayState.PAID


def test_each_attempt_is_keyed_on_the_orders_key_so_a_resend_is_the_same_payment(kit):
    kit.backend.pay_answers = [kit.backend.attempt("failed", "insufficient_funds")]
    first = kit.payer.pay(CODE)
    assert first.outcome is None and "余额不足" in first.message_zh and statuses(kit) == []
    kit.payer.pay(ScannedCode("134527980099999999"))
    keys = [key for _o, _c, key in kit.backend.pays]
    assert keys == [f"{kit.flow.payment.idempotency_key}-code-1", f"{kit.flow.payment.idempotency_key}-code-2"]
    assert {o for o, _c, _k in kit.backend.pays} == {kit.flow.payment.order_no}  # one order, never a second


def test_the_payer_entering_the_password_is_waited_for(kit):
    b = kit.backend
    b.pay_answers = [b.attempt("paying")]
    b.status_answers = [b.attempt("paying"), b.attempt("paying"), lambda b: b.paid()]
    result = kit.payer.pay(CODE)
    assert result.outcome.ok and b.queries == 3 and b.reversals == []
    assert kit.printer.jobs == [f"{kit.flow.txn}-receipt"]


def test_a_lost_answer_is_followed_by_a_status_query_that_finds_it_paid(kit):
    b = kit.backend

    def lost(b):
        b.paid()  # the money moved; the answer never arrives
        raise BackendUnavailableError("read timeout")

    b.pay_answers = [lost]
    b.status_answers = [lambda b: b.attempt("paid")]
    result = kit.payer.pay(CODE)
    assert result.outcome.ok and b.queries == 1 and b.reversals == []
    assert len(b.pays) == 1  # the request was not sent again
    assert statuses(kit) == ["completed"] and len(kit.printer.jobs) == 1


def test_still_unknown_after_30_seconds_is_reversed_and_never_charged(kit):
    b = kit.backend

    def lost(b):
        b.paid()
        raise BackendUnavailableError("read timeout")

    b.pay_answers = [lost]
    b.status_answers = [BackendUnavailableError("down")] * 100
    result = kit.payer.pay(CODE)
    assert b.reversals == [f"reverse-{b.order['order_no']}"]
    assert kit.clock.t - 1000.0 >= 30  # it asked for the whole confirmation window first
    assert result.outcome.title_zh == "付款已撤销" and "原路退回" in result.outcome.message_zh
    assert b.order["status"] == "closed" and kit.printer.jobs == []
    assert statuses(kit) == ["cancelled"]


def test_a_payer_who_never_confirms_is_reversed_without_a_charge(kit):
    b = kit.backend
    b.pay_answers = [b.attempt("paying")]
    b.status_answers = [b.attempt("paying")] * 100
    result = kit.payer.pay(CODE)
    assert b.reversals and result.outcome.title_zh == "付款已撤销"
    assert "没有被扣款" in result.outcome.message_zh and kit.printer.jobs == []


def test_a_lost_reversal_is_left_unconfirmed_and_settled_by_reversing_later(kit):
    b = kit.backend

    def lost(b):
        b.paid()
        raise BackendUnavailableError("read timeout")

    b.pay_answers = [lost]
    b.status_answers = [BackendUnavailableError("down")] * 100
    b.reverse_answers = [BackendUnavailableError("down")]
    result = kit.payer.pay(CODE)
    assert result.outcome.notice and result.outcome.title_zh == "付款结果确认中"
    assert "请勿重复付款" in result.outcome.message_zh
    assert statuses(kit) == ["paid_unconfirmed"] and kit.printer.jobs == []
    assert [r["transaction_no"] for r in pending_unconfirmed(kit.journal)] == [kit.flow.txn]
    # later, the network back: settled the way payments are, but a code payment is given back
    b.status_answers = [lambda b: b.attempt("paid")]
    settled = settle_unconfirmed(kit.journal, b)
    assert [s["status"] for s in settled] == ["cancelled"]
    assert b.order["status"] == "closed" and b.reversals == [f"reverse-{b.order['order_no']}"] * 2


def test_settling_a_qr_payment_is_unchanged_by_payment_codes(kit):
    b = kit.backend
    kit.flow.payment._lost(BackendUnavailableError("down"))
    kit.flow._unconfirmed()
    b.order |= {"status": "paid"}  # paid by scanning the order's QR code, in the dark
    b.status_answers = [lambda b: b.attempt("none")]
    assert [s["status"] for s in settle_unconfirmed(kit.journal, b)] == ["completed"]
    assert b.reversals == []


def test_an_order_paid_by_its_qr_code_meanwhile_is_that_payment(kit):
    b = kit.backend

    def already(b):
        b.order["status"] = "paid"
        raise BackendError("HTTP 409 order_paid", code="order_paid")

    b.pay_answers = [already]
    result = kit.payer.pay(CODE)
    assert result.outcome.ok and len(kit.printer.jobs) == 1 and b.reversals == []


@pytest.mark.parametrize(("reason", "says"), [("insufficient_funds", "余额不足"), ("code_used", "已使用过"),
                                             ("code_expired", "已过期")])
def test_a_refused_code_charges_nothing_and_leaves_the_order_open(kit, reason, says):
    b = kit.backend
    b.pay_answers = [b.attempt("failed", reason)]
    result = kit.payer.pay(CODE)
    assert result.outcome is None and says in result.message_zh and result.reason == reason
    assert kit.flow.outcome is None and b.order["status"] == "unpaid" and kit.printer.jobs == []
    assert kit.payer.stage == Stage.DONE


def test_what_is_not_a_payment_code_is_not_sent():
    flow = type("F", (), {})()
    payer = CodePayment(flow)
    result = payer.pay(ScannedCode("ESSC1.0123456789abcdef.0123456789abcdef"))
    assert result.outcome is None and "不是付款码" in result.message_zh


def test_the_code_is_never_logged_in_full(kit, caplog):
    caplog.set_level("DEBUG")
    kit.payer.pay(CODE)
    assert CODE.text not in caplog.text and "13**…**78" in caplog.text


def test_the_attempts_belong_to_the_session_so_no_key_is_used_twice(kit):
    from kiosk.services.payment_code import for_flow

    b = kit.backend
    b.pay_answers = [b.attempt("failed", "insufficient_funds")]
    first = for_flow(kit.flow)
    first.pay(CODE)
    again = for_flow(kit.flow)  # the resident went back to the QR code and came again
    assert again is first
    again.pay(ScannedCode("134527980099999999"))
    assert [key[-7:] for _o, _c, key in b.pays] == ["-code-1", "-code-2"]
