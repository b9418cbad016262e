"""社保卡临时挂失 rules on the fakes: one report per number keyed, and a receipt that is only paper.

Over real HTTP and the real printer driver: tests/integration/test_card_services.py.
"""

from __future__ import annotations

import pytest

from kiosk.hardware.base import PaperStatus
from kiosk.sim.demo_data import BY_KEY
from tests.support.fakes import FakeTerminal, fake_terminal

ITEM = "sscard_temporary_loss"
RESIDENT = "wang_jianguo"


@pytest.fixture
def t() -> FakeTerminal:
    return fake_terminal()


def loss_flow(t: FakeTerminal):
    flow = t.start(ITEM, RESIDENT)
    flow.load()
    return flow


def test_a_report_resent_after_a_lost_answer_is_applied_once(t):
    flow = loss_flow(t)
    phone = BY_KEY[RESIDENT].phone
    t.backend.lose_answers("report_card_loss")
    assert not flow.report(phone).ok  # the card is lost at the backend; the terminal cannot know
    outcome = flow.report(phone)
    assert outcome.ok and outcome.title_zh == "临时挂失成功"
    keys = {call["idempotency_key"] for call in t.backend.called("report_card_loss")}
    assert len(keys) == 1 and len(t.backend.loss_reports) == 1
    assert len(t.printer.printed) == 1


def test_paper_out_keeps_the_loss_and_a_reprint_prints_the_receipt_once(t):
    flow = loss_flow(t)
    t.printer.paper_state = PaperStatus.OUT
    outcome = flow.report(BY_KEY[RESIDENT].phone)
    assert outcome.ok and outcome.can_retry == "print" and "回执未打印" in outcome.message_zh
    t.printer.paper_state = PaperStatus.FULL
    assert flow.print_certificate().ok and flow.print_certificate().ok
    assert len(t.printer.printed) == 1 and len(t.backend.loss_reports) == 1
    assert t.journal.statuses(t.journey.session.matter_no) == ["started", "completed"]
