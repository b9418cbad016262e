"""缴费 rules on the fakes: a resident is never charged twice, and a payment in doubt stays one.

The backend here is ``FakeBackend``: its orders have states, ``pay`` is the resident paying on
the phone, and ``lose_answers`` applies a call and loses what it answered. The integration
tests (tests/integration/test_payments.py) run the same rules over real HTTP and SQLite.
"""

from __future__ import annotations

import pytest

from kiosk.errors import BackendUnavailableError
from kiosk.hardware.base import PaperStatus
from kiosk.services.payment_order import PayState, pending_unconfirmed, settle_unconfirmed
from tests.support.fakes import FakeTerminal, fake_terminal

WATER_ACCOUNT = "3709210001"  # 张秀英's, two months due


@pytest.fixture
def t() -> FakeTerminal:
    return fake_terminal()


def water(t: FakeTerminal):
    flow = t.start("water_bill")
    flow.load_bill(WATER_ACCOUNT)
    return flow


def in_doubt(t: FakeTerminal):
    """A water-bill payment whose state was lost past the grace: ``paid_unconfirmed``."""
    flow = water(t)
    view = flow.start_payment()
    flow.unknown_grace_s = 0
    t.backend.lose_answers("reconcile_order")
    assert flow.poll().title_zh == "支付结果确认中"
    return flow, view


def unpaid_orders(t: FakeTerminal) -> list[str]:
    return [no for no, o in t.backend.orders.items() if o["status"] == "unpaid"]


# --- ordering -------------------------------------------------------------------------------------


def test_a_lost_answer_on_create_gets_the_same_order_back_on_retry(t):
    flow = water(t)
    t.backend.lose_answers("create_order")
    with pytest.raises(BackendUnavailableError):
        flow.start_payment()
    assert len(t.backend.orders) == 1  # the backend made it; the terminal never heard
    view = flow.start_payment()
    assert list(t.backend.orders) == [view.order_no]
    keys = {call["idempotency_key"] for call in t.backend.called("create_order")}
    assert len(keys) == 1 and len(t.backend.called("create_order")) == 2


def test_the_intent_is_journaled_before_the_order_and_the_order_number_before_the_code_is_shown(t):
    flow = water(t)
    view = flow.start_payment()
    intent = f"journal.begin paying {flow.txn}"
    first, order = t.log.index(intent), t.log.index("backend.create_order")
    assert first < order < t.log.index(intent, order)
    assert t.journal.rows[flow.txn]["order_no"] == view.order_no


def test_backend_down_before_ordering_makes_no_order_and_says_nothing_was_charged(t):
    flow = water(t)
    t.backend.down = True
    with pytest.raises(BackendUnavailableError) as raised:
        flow.start_payment()
    outcome = flow.order_failed(raised.value)  # what the QR screen does with the error
    assert not outcome.ok and "没有被扣款" in outcome.message_zh and outcome.reference == flow.txn
    assert t.backend.orders == {}
    assert t.journal.rows[flow.txn]["status"] == "failed"


# --- watching, cancelling, timing out -------------------------------------------------------------


def test_a_lost_status_answer_is_asked_again_and_the_payment_found_prints_once(t):
    flow = water(t)
    view = flow.start_payment()
    t.backend.pay(view.order_no)
    t.backend.lose_answers("reconcile_order")
    assert flow.poll() is None and flow.state is PayState.UNKNOWN  # still within the grace
    assert t.printer.printed == []
    outcome = flow.poll()
    assert outcome.ok and flow.state is PayState.PAID
    assert [job.job_id for job in t.printer.printed] == [f"{flow.txn}-receipt"]
    assert t.journal.statuses(flow.txn)[-1] == "completed"


def test_a_state_lost_past_the_grace_is_told_honestly_and_never_ordered_again(t):
    flow, view = in_doubt(t)
    outcome = flow.outcome
    assert not outcome.ok and outcome.notice and "请勿重复缴费" in outcome.message_zh
    assert t.printer.printed == []
    assert t.journal.rows[flow.txn]["status"] == "paid_unconfirmed"
    assert [r["transaction_no"] for r in pending_unconfirmed(t.journal)] == [flow.txn]
    assert flow.start_payment().order_no == view.order_no  # this session has its one order
    assert list(t.backend.orders) == [view.order_no]


def test_a_lost_answer_on_close_is_a_doubt_not_a_cancellation(t):
    flow = water(t)
    view = flow.start_payment()
    t.backend.lose_answers("reconcile_order")
    outcome = flow.cancel()
    assert outcome.title_zh == "支付结果确认中"
    assert t.journal.rows[flow.txn]["status"] == "paid_unconfirmed"
    settled = settle_unconfirmed(t.journal, t.backend)
    assert [(r["status"], r["order_no"]) for r in settled] == [("cancelled", view.order_no)]


def test_paid_just_before_cancel_counts_as_paid_and_prints_the_receipt(t):
    flow = water(t)
    view = flow.start_payment()
    t.backend.pay(view.order_no)
    outcome = flow.cancel()
    assert outcome.ok and outcome.title_zh == "缴费成功"
    assert len(t.printer.printed) == 1 and t.journal.rows[flow.txn]["status"] == "completed"


def test_the_terminal_closes_the_order_when_its_window_ends_and_nobody_can_pay_it_after(t):
    flow = water(t)
    flow.window_s = 0
    view = flow.start_payment()
    outcome = flow.poll()
    assert not outcome.ok and outcome.title_zh == "支付超时，订单已关闭"
    assert t.backend.orders[view.order_no]["status"] == "closed"
    assert t.journal.rows[flow.txn]["status"] == "cancelled"
    with pytest.raises(AssertionError, match="nobody can pay it"):
        t.backend.pay(view.order_no)


def test_a_card_pulled_mid_payment_ends_the_visit_and_the_open_order_is_closed_unprinted(t):
    flow = t.start("resident_medical_payment", "zhou_fang")
    flow.choose(flow.load_options().grades[0].grade_id)
    view = flow.start_payment()
    t.devices.take("idcard")
    assert t.journey.state == "farewell" and t.journey.end_reason == "card_removed"
    assert not t.journey.session.holds_personal_data
    flow.abandon()  # what the QR screen does when it is left without an ending
    assert t.backend.orders[view.order_no]["status"] == "closed"
    assert t.journal.rows[flow.txn]["status"] == "cancelled" and t.printer.printed == []


def test_a_payment_made_as_the_resident_walked_away_is_journaled_paid_without_printing(t):
    flow = water(t)
    view = flow.start_payment()
    t.backend.pay(view.order_no)
    t.journey.end("timeout")
    flow.abandon()
    assert t.journal.rows[flow.txn]["status"] == "completed"
    assert t.printer.printed == []  # nobody is there to take it


# --- settling doubts --------------------------------------------------------------------------------


def test_the_next_payment_settles_an_earlier_doubt_by_closing_the_old_order_first(t):
    first, old = in_doubt(t)
    t.backend.heal()
    t.journey.end("done")
    second = water(t)
    new = second.start_payment()
    assert new.order_no != old.order_no
    ordered = max(i for i, entry in enumerate(t.log) if entry == "backend.create_order")
    assert t.log.index(f"backend closed {old.order_no}") < ordered
    assert unpaid_orders(t) == [new.order_no]  # never two payable orders for the same bills
    assert t.journal.statuses(first.txn)[-2:] == ["paid_unconfirmed", "cancelled"]


def test_reconciliation_never_pays_it_asks_closes_the_unpaid_and_records_the_paid(t):
    unpaid, unpaid_view = in_doubt(t)
    t.journey.end("done")
    t.backend.lose_answers("reconcile_order", times=None)  # nothing about orders gets back now
    paid, paid_view = in_doubt(t)  # (its start could not settle the first: that answer was lost too)
    assert len(pending_unconfirmed(t.journal)) == 2
    t.backend.heal()
    t.backend.pay(paid_view.order_no)  # the resident did pay, on the phone
    before = len(t.backend.calls)
    settled = settle_unconfirmed(t.journal, t.backend)
    assert sorted((r["transaction_no"], r["status"]) for r in settled) == sorted(
        [(unpaid.txn + "-R", "cancelled"), (paid.txn + "-R", "completed")])
    assert t.backend.paid_orders() == [paid_view.order_no]
    assert t.backend.orders[unpaid_view.order_no]["status"] == "closed"
    assert settle_unconfirmed(t.journal, t.backend) == []  # each doubt is settled once
    asked = t.backend.calls[before:]
    # whether a payment code was tried on it first (none was: nothing to reverse), then close-or-record
    assert [name for name, _ in asked] == ["code_payment_status", "reconcile_order"] * 2
    assert [args["close_unpaid"] for name, args in asked if name == "reconcile_order"] == [True, True]


def test_a_doubt_the_backend_still_cannot_answer_stays_pending(t):
    flow, _view = in_doubt(t)
    t.backend.down = True
    assert settle_unconfirmed(t.journal, t.backend) == []
    assert [r["transaction_no"] for r in pending_unconfirmed(t.journal)] == [flow.txn]


# --- the receipt --------------------------------------------------------------------------------------


def test_paper_out_keeps_the_payment_and_a_reprint_prints_the_receipt_once(t):
    flow = water(t)
    view = flow.start_payment()
    t.printer.paper_state = PaperStatus.OUT
    t.backend.pay(view.order_no)
    outcome = flow.poll()
    assert outcome.ok and outcome.can_retry == "print" and "请勿重复缴费" in outcome.message_zh
    assert t.journal.rows[flow.txn]["status"] == "completed"
    t.printer.paper_state = PaperStatus.FULL
    assert flow.print_certificate().ok  # the result screen's 重新打印
    assert flow.print_certificate().ok
    assert len(t.printer.printed) == 1


def test_a_receipt_torn_off_when_the_paper_ran_out_is_printed_whole_once_after_refilling(t):
    flow = water(t)
    view = flow.start_payment()
    t.printer.run_out_mid_job = True
    t.backend.pay(view.order_no)
    assert flow.poll().can_retry == "print"
    t.printer.paper_state = PaperStatus.FULL
    assert flow.print_certificate().ok and flow.print_certificate().ok
    assert [job.job_id for job in t.printer.printed] == [f"{flow.txn}-receipt"]
