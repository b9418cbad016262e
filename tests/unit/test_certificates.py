"""证明打印 rules on the fakes: one certificate per request, printed once, however often a print
is retried; a certificate the backend will not issue is said plainly and journaled as nothing.

Certificates come out in receipt form on the fake printer; the A4 path through CUPS and the
paper itself are in tests/integration/test_certificates.py and test_certificate_paper.py.
"""

from __future__ import annotations

import pytest

from kiosk.hardware.base import PaperStatus
from tests.support.fakes import FakeTerminal, fake_terminal

ITEM = "rights_record"  # 个人权益记录单: shown on the query screen, then printed


@pytest.fixture
def t() -> FakeTerminal:
    return fake_terminal()


def shown(t: FakeTerminal, resident: str = "wang_jianguo"):
    flow = t.start(ITEM, resident)
    flow.load()
    return flow


def test_a_certificate_is_issued_once_and_printed_once_however_often_print_is_pressed(t):
    flow = shown(t)
    txn = t.journey.session.matter_no
    assert flow.print_certificate().ok and flow.print_certificate().ok
    assert len(t.backend.certificates) == 1 and [j.job_id for j in t.printer.printed] == [f"{txn}-cert"]
    assert t.journal.rows[txn]["status"] == "completed"
    assert [p["status"] for p in t.outbox.of("transaction")] == ["completed"]  # sent to the backend once
    assert t.log.index(f"journal.begin printing {txn}") < t.log.index("backend.certificate")


def test_paper_out_then_a_reprint_prints_the_same_certificate_once(t):
    flow = shown(t)
    t.printer.paper_state = PaperStatus.OUT
    failed = flow.print_certificate()
    assert not failed.ok and failed.can_retry == "print" and t.printer.printed == []
    t.printer.paper_state = PaperStatus.FULL
    assert flow.print_certificate().ok
    assert len(t.backend.called("certificate")) == 1  # issued before the paper ran out, not again
    assert len(t.printer.printed) == 1


def test_a_lost_answer_on_issuing_is_retried_with_the_same_key_and_issues_one_certificate(t):
    flow = shown(t)
    t.backend.lose_answers("certificate")
    failed = flow.print_certificate()
    assert not failed.ok and failed.can_retry == "print" and t.printer.printed == []
    assert flow.print_certificate().ok
    keys = [call["idempotency_key"] for call in t.backend.called("certificate")]
    assert len(keys) == 2 and len(set(keys)) == 1
    assert len(t.backend.certificates) == 1 and len(t.printer.printed) == 1


def test_each_request_gets_its_own_certificate(t):
    for _visit in range(2):
        assert shown(t).print_certificate().ok
        t.journey.end("done")
        t.devices.take("idcard")
        assert t.journey.dismiss_farewell()
    assert len(t.backend.certificates) == 2 and len(t.printer.printed) == 2


def test_a_certificate_the_backend_will_not_issue_offers_no_retry_and_leaves_no_intent(t):
    flow = shown(t, "chen_ming")  # insured nowhere
    txn = t.journey.session.matter_no
    outcome = flow.print_certificate()
    assert not outcome.ok and outcome.title_zh == "无法出具证明" and outcome.can_retry == ""
    assert txn not in t.journal.rows and t.printer.printed == []


def test_the_paper_names_the_holder_but_the_journal_does_not(t):
    shown(t).print_certificate()
    (job,) = t.printer.printed
    lines = dict(job.receipt.lines)
    assert lines["姓名"] == "王建国"  # a certificate is handed to an office: the full holder
    (row,) = t.journal.rows.values()
    assert row["masked_name"] == "王**" and "*" in row["masked_id"]
