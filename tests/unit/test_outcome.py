"""How a failed item is told to the resident, and what staff know the visit by."""

from __future__ import annotations

from kiosk.errors import BackendUnavailableError, JourneyError
from kiosk.services.journey import Outcome
from kiosk.services.session import Session


def test_a_failure_reads_the_reason_then_what_to_do_with_one_stop_between():
    error = JourneyError("outbox full", message_zh="暂时无法保存。", message_en="It cannot be saved now.")
    outcome = Outcome.failed(error, "AB12CD", title=("未能提交", "Not sent"),
                             then=("请到窗口办理。", "Please go to a window."))
    assert not outcome.ok and outcome.reference == "AB12CD"
    assert (outcome.title_zh, outcome.title_en) == ("未能提交", "Not sent")
    assert outcome.message_zh == "暂时无法保存。请到窗口办理。"
    assert outcome.message_en == "It cannot be saved now. Please go to a window."


def test_a_failure_without_next_steps_is_the_errors_own_message():
    error = BackendUnavailableError("connect timeout")
    outcome = Outcome.failed(error, "AB12CD")
    assert (outcome.message_zh, outcome.message_en) == (error.message_zh, error.message_en)
    assert outcome.title_zh == "未能办理"


def test_the_matter_is_known_by_the_reference_until_there_is_a_transaction_number():
    session = Session()
    assert session.matter_no == session.reference
    session.transaction_no = "NY-370921-0001-20261123175700-AB12"
    assert session.matter_no == "NY-370921-0001-20261123175700-AB12"
    session.wipe()
    assert session.matter_no == session.reference
