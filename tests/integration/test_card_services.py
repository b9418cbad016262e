"""社会保障卡服务 through every layer without a window: 临时挂失 and the status query.

Real ID-card driver against its emulator, real HTTP to the reference backend, real outbox
and journal, real ESC/POS driver against the printer emulator.
"""

from __future__ import annotations

import pytest

from kiosk.hardware.base import PaperStatus
from kiosk.services.assistance import InvalidPhoneError
from kiosk.services.card_services import MAX_PHONE_ATTEMPTS, PhoneMismatchError
from kiosk.sim.demo_data import BY_KEY


def start(s, flow: str, resident: str):
    item = s.item_for_flow(flow)
    s.wait_device("idcard")
    s.wait_device("printer")
    s.journey.choose(item.id)
    s.journey.proceed()
    s.identify_with_idcard(resident)
    assert s.journey.state == "item", s.refused
    return item


def card_status_at_backend(s, resident: str) -> str:
    return s.kiosk.backend.card_status(BY_KEY[resident].id_number)["status"]


def test_loss_report_with_the_phone_on_record_prints_a_masked_receipt(scripted, reference_backend):
    person = BY_KEY["feng_wei"]
    start(scripted, "card_loss", "feng_wei")
    flow = scripted.journey.flow
    card = flow.load()
    assert card.status == "normal" and card.masked_card_number.endswith(person.sscard_number[-4:])
    assert person.sscard_number not in card.masked_card_number

    outcome = flow.report(person.phone)
    assert outcome.ok and "临时挂失成功" in outcome.title_zh, outcome
    assert outcome.reference == scripted.journey.session.transaction_no
    assert card_status_at_backend(scripted, "feng_wei") == "lost"

    printer = scripted.kiosk.hub.emulator("printer")
    assert printer.wait_for_documents(1)
    text = "".join(printer.documents[-1].text.split())  # lines wrap at the paper's width
    assert "临时挂失回执" in text and "社会保障卡临时挂失" in text and outcome.reference in text
    assert "正式挂失" in text and "补卡" in text  # what to do next is on paper
    assert person.sscard_number[-4:] in text
    for secret in (person.sscard_number, person.id_number, person.name, person.phone):
        assert secret not in text  # masked on paper
    for secret in (person.sscard_number, person.id_number, person.phone):
        assert secret not in outcome.message_zh + outcome.message_en

    # a second press (a retry after a lost answer) neither reports nor prints again
    assert flow.report(person.phone).ok
    assert len(printer.documents) == 1

    txn = outcome.reference
    scripted.journey.finish(outcome)
    scripted.journey.to_rating()
    scripted.journey.rating_timed_out()
    scripted.kiosk.delivery.flush(10)
    journal = [t["payload"] for t in reference_backend.received("transaction") if t["payload"]["transaction_no"] == txn]
    assert len(journal) == 1 and journal[0]["status"] == "completed"
    assert journal[0]["masked_id"].endswith(person.id_number[-4:]) and person.id_number not in str(journal)


def test_a_wrong_phone_is_refused_then_the_right_one_works(scripted):
    person = BY_KEY["hu_xiaoyan"]
    start(scripted, "card_loss", "hu_xiaoyan")
    flow = scripted.journey.flow
    flow.load()
    with pytest.raises(PhoneMismatchError) as wrong:
        flow.report("13900000000")
    assert wrong.value.attempts_left == MAX_PHONE_ATTEMPTS - 1
    assert "不一致" in wrong.value.message_zh
    assert card_status_at_backend(scripted, "hu_xiaoyan") == "normal"
    assert flow.report(person.phone).ok
    assert card_status_at_backend(scripted, "hu_xiaoyan") == "lost"


def test_a_number_that_is_not_a_mobile_is_refused_before_the_backend(scripted):
    start(scripted, "card_loss", "gao_junjie")
    flow = scripted.journey.flow
    flow.load()
    for bad in ("1385380121", "23853801217", "12853801217", ""):
        with pytest.raises(InvalidPhoneError):
            flow.report(bad)
    assert flow.attempts_left == MAX_PHONE_ATTEMPTS  # not counted as a guess
    assert card_status_at_backend(scripted, "gao_junjie") == "normal"


def test_too_many_wrong_numbers_send_the_resident_to_a_window(scripted, reference_backend):
    start(scripted, "card_loss", "ouyang_na")
    flow = scripted.journey.flow
    flow.load()
    for n in range(MAX_PHONE_ATTEMPTS - 1):
        with pytest.raises(PhoneMismatchError):
            flow.report(f"1390000000{n}")
    outcome = flow.report("13911111111")
    assert not outcome.ok and "窗口" in outcome.message_zh and outcome.reference
    assert not flow.report(BY_KEY["ouyang_na"].phone).ok  # no more guesses in this session
    assert card_status_at_backend(scripted, "ouyang_na") == "normal"


def test_a_card_already_lost_is_said_plainly(scripted):
    start(scripted, "card_loss", "zhao_li")
    flow = scripted.journey.flow
    card = flow.load()
    assert card.lost
    outcome = flow.already_lost_outcome()
    assert not outcome.ok and "已处于临时挂失状态" in outcome.title_zh
    assert "窗口" in outcome.message_zh and outcome.reference
    # even a correct number does not report it again
    assert flow.report(BY_KEY["zhao_li"].phone).title_zh == outcome.title_zh
    assert len(scripted.kiosk.hub.emulator("printer").documents) == 0


def test_paper_out_keeps_the_loss_and_offers_a_reprint(scripted):
    person = BY_KEY["liang_jianping"]
    start(scripted, "card_loss", "liang_jianping")
    flow = scripted.journey.flow
    flow.load()
    printer = scripted.kiosk.hub.emulator("printer")
    printer.set_paper(PaperStatus.OUT)
    scripted.pump(lambda: scripted.kiosk.hub.unavailable_reason(["printer"]) is not None, 10, "paper out seen")
    outcome = flow.report(person.phone)
    assert outcome.ok and "回执未打印" in outcome.message_zh and outcome.can_retry == "print"
    assert card_status_at_backend(scripted, "liang_jianping") == "lost"
    printer.set_paper(PaperStatus.FULL)
    scripted.pump(lambda: scripted.kiosk.hub.unavailable_reason(["printer"]) is None, 10, "paper back")
    again = flow.print_certificate()
    assert again.ok and not again.can_retry
    assert printer.wait_for_documents(1) and len(printer.documents) == 1


def test_backend_down_gives_a_reference_and_what_to_do(scripted, reference_backend):
    person = BY_KEY["wu_haitao"]
    start(scripted, "card_loss", "wu_haitao")
    flow = scripted.journey.flow
    flow.load()
    reference_backend.faults.set("5xx", path_prefix="/v1/cards/report-loss")
    outcome = flow.report(person.phone)
    reference_backend.faults.clear()
    assert not outcome.ok and outcome.reference == scripted.journey.session.transaction_no
    assert "窗口" in outcome.message_zh and "12333" in outcome.message_zh
    # the same number later goes through: the card is reported once
    assert flow.report(person.phone).ok
    assert card_status_at_backend(scripted, "wu_haitao") == "lost"


def test_status_query_shows_masked_status(scripted):
    person = BY_KEY["zhao_li"]
    start(scripted, "card_status", "zhao_li")
    flow = scripted.journey.flow
    card = flow.load()
    outcome = flow.status_outcome()
    assert outcome.ok and "临时挂失" in outcome.title_zh
    assert card.masked_card_number[-4:] == person.sscard_number[-4:]
    assert person.sscard_number not in outcome.message_zh

    scripted.journey.end("done")
    scripted.leave()
    start(scripted, "card_status", "wang_jianguo")
    flow = scripted.journey.flow
    flow.load()
    assert "状态正常" in flow.status_outcome().title_zh


def test_the_phone_on_file_is_offered_masked_as_the_hint(scripted):
    from kiosk.sim.demo_data import BY_KEY

    state = scripted.kiosk.backend.card_status(BY_KEY["wang_jianguo"].id_number)
    assert state["masked_phone"] == "138****1202"
