"""A bill's status reads the same on the payment screen, in the query tables and on the record."""

from __future__ import annotations

from kiosk import i18n
from kiosk.services.bill_status import BILL_STATUS, bill_status_zh
from kiosk.services.certificates import ContributionCertificateFlow
from kiosk.services.contribution_record import ContributionRecord


def test_a_due_period_is_待缴_on_the_contribution_record_too():
    flow = object.__new__(ContributionCertificateFlow)  # only the month rows are wanted here
    flow._years = {2026: [
        {"period": "2026-01", "scheme": "pension_resident", "personal_fen": 20000, "status": "paid"},
        {"period": "2026-02", "scheme": "pension_resident", "personal_fen": 20000, "status": "due"},
    ]}
    empty = ContributionRecord(masked_name="", masked_id="", insured=True, schemes=())
    record = flow._over(empty, "pension_resident", "2026-01", "2026-02")
    assert [m.status for m in record.months] == ["已缴", "待缴"]
    assert (record.paid_fen, record.due_fen) == (20000, 20000)  # what was paid, and what is due apart


def test_arrears_are_not_called_paid_and_an_unknown_code_is_shown_as_it_came():
    assert bill_status_zh("arrears") == "欠缴"
    assert bill_status_zh("suspended") == "suspended"


def test_every_status_word_has_its_english_in_the_catalogue():
    for zh, en in BILL_STATUS.values():
        assert i18n.translate(zh, "en") == en
