"""A full store on the fakes: an item that cannot write its intent never does its act.

Before anything that cannot be undone (a certificate issued, paper printed, an order made, a
card reported lost) the flow writes its intent to the journal; a store that refuses it stops
the flow there. What the disk refuses after the act is kept to be written later and never
turns a done act into a failure. The same on a real, small file system:
tests/integration/test_store_full.py.
"""

from __future__ import annotations

import pytest

from kiosk.errors import JourneyError, StoreFullError
from kiosk.services.payment_order import PayState
from kiosk.sim.demo_data import BY_KEY
from tests.support.fakes import FakeTerminal, fake_terminal


@pytest.fixture
def t() -> FakeTerminal:
    return fake_terminal()


def test_a_full_store_makes_self_service_items_unavailable_and_leaves_guides_open(t):
    t.outbox.full = True
    with pytest.raises(JourneyError) as refused:
        t.journey.choose("rights_record")
    assert refused.value.message_zh == StoreFullError.message_zh
    t.journey.choose("sscard_password_reset")
    assert t.journey.state == "guide"


def test_a_certificate_stops_before_it_is_issued_when_its_intent_is_refused(t):
    flow = t.start("rights_record", "wang_jianguo")
    flow.load()
    t.outbox.full = True
    outcome = flow.print_certificate()
    assert not outcome.ok and outcome.title_zh == "暂停办理"
    assert t.backend.called("certificate") == [] and t.printer.printed == []


def test_a_payment_stops_before_any_order_when_its_intent_is_refused(t):
    flow = t.start("water_bill")
    flow.load_bill("3709210001")
    t.outbox.full = True
    with pytest.raises(StoreFullError):
        flow.start_payment()
    assert t.backend.called("create_order") == [] and t.backend.orders == {}


def test_an_order_whose_number_cannot_be_journaled_is_closed_before_anyone_sees_it(t):
    flow = t.start("water_bill")
    flow.load_bill("3709210001")
    t.outbox.fill_after(1)  # the first intent goes through; the disk is full for the order number
    with pytest.raises(StoreFullError):
        flow.start_payment()
    (order,) = t.backend.orders.values()
    assert order["status"] == "closed"


def test_a_loss_report_stops_before_the_backend_is_asked_when_its_intent_is_refused(t):
    flow = t.start("sscard_temporary_loss", "wang_jianguo")
    flow.load()
    t.outbox.full = True
    outcome = flow.report(BY_KEY["wang_jianguo"].phone)
    assert not outcome.ok and outcome.message_zh.startswith(StoreFullError.message_zh)
    assert t.backend.called("report_card_loss") == [] and t.backend.lost_cards.keys() == {BY_KEY["zhao_li"].id_number}


def test_a_settle_refused_after_paying_is_kept_and_the_resident_still_gets_the_receipt(t):
    flow = t.start("water_bill")
    flow.load_bill("3709210001")
    view = flow.start_payment()
    t.backend.pay(view.order_no)
    t.outbox.full = True
    outcome = flow.poll()
    assert outcome.ok and flow.state is PayState.PAID and len(t.printer.printed) == 1
    assert [(e["transaction_no"], e["status"]) for e in t.journal.deferred()] == [(flow.txn, "completed")]


def test_a_help_request_is_confirmed_only_once_it_is_queued(t):
    flow = t.start("help_request")
    t.outbox.full = True
    with pytest.raises(StoreFullError):
        flow.submit("13800138000", "rights_record")
    assert flow.outcome is None and t.outbox.of("help_request") == []
