"""个人参保缴费证明查询打印 through every layer without a window.

Real ID-card driver on a pty against the emulator, real HTTP to the reference backend,
real SQLite outbox and journal, real ESC/POS driver against the loopback printer emulator.
"""

from __future__ import annotations

import pytest

from kiosk.errors import JourneyError
from kiosk.hardware.base import PaperStatus
from kiosk.services.rating import Level, Rating, RatingError
from kiosk.sim.demo_data import BY_KEY


def start_certificate(s, resident="wang_jianguo"):
    item = s.item_for_flow("contribution_certificate")
    s.wait_device("idcard")
    s.wait_device("printer")
    s.journey.choose(item.id)
    assert s.journey.state == "guide"
    s.journey.proceed()
    assert s.journey.state == "identify"
    s.identify_with_idcard(resident)
    assert s.journey.state == "item", s.refused
    return item


def test_whole_slice_prints_rates_and_wipes(scripted, reference_backend):
    person = BY_KEY["wang_jianguo"]
    start_certificate(scripted)
    session = scripted.journey.session
    assert session.identity.id_number == person.id_number  # read off the card over the pty
    record = scripted.journey.flow.load()
    assert record.masked_id == "370***********" + person.id_number[-4:]
    assert [s.name for s in record.schemes] == ["企业职工基本养老保险", "职工基本医疗保险"]
    assert record.months and all(m.personal_fen > 0 for m in record.months)

    outcome = scripted.journey.flow.print_certificate()
    assert outcome.ok, outcome
    txn = session.transaction_no
    printer = scripted.kiosk.hub.emulator("printer")
    assert printer.wait_for_documents(1)
    printed = printer.documents[-1].text
    assert "个人参保缴费证明" in printed
    assert person.id_number in printed and person.name in printed  # the holder in full, as at a counter
    assert printer.documents[-1].qr_payloads  # the verification QR was sent natively

    scripted.journey.finish(outcome)
    scripted.journey.to_rating()
    assert scripted.journey.rate(Rating(Level.SATISFIED, indicators=("efficiency",)))
    farewell = scripted.journey.farewell
    assert scripted.journey.state == "farewell"  # thanks; take the ID card and the certificate
    assert (farewell.reason, farewell.cards, farewell.papers) == ("rated", ("idcard",), ("certificate",))
    assert not scripted.journey.session.holds_personal_data
    assert session.identity is None and not session.data  # the old session was wiped too

    scripted.kiosk.delivery.flush(10)
    ratings = [r["payload"] for r in reference_backend.received("rating") if r["payload"]["transaction_no"] == txn]
    assert len(ratings) == 1 and ratings[0]["satisfaction"] == 4
    assert ratings[0]["channel"] == "terminal" and ratings[0]["evaluator_masked"] == "王**"
    assert person.id_number not in str(ratings)
    journal = [t["payload"] for t in reference_backend.received("transaction") if t["payload"]["transaction_no"] == txn]
    assert len(journal) == 1 and journal[0]["status"] == "completed"


def test_paper_out_then_retry_prints_once(scripted):
    start_certificate(scripted, "li_guilan")
    flow = scripted.journey.flow
    flow.load()
    printer = scripted.kiosk.hub.emulator("printer")
    printer.set_paper(PaperStatus.OUT)
    failed = flow.print_certificate()
    assert not failed.ok and failed.can_retry == "print"
    assert "缺纸" in failed.message_zh
    assert len(printer.documents) == 0
    scripted.journey.finish(failed)
    retry = scripted.journey.retry_action()  # what the result screen's 重新打印 runs
    assert retry is not None and retry.__name__ == "print_certificate"
    printer.set_paper(PaperStatus.FULL)
    scripted.journey.update_outcome(retry())
    assert scripted.journey.outcome.ok and scripted.journey.retry_action() is None
    assert flow.print_certificate().ok  # a second press must not print it again
    assert printer.wait_for_documents(1)
    assert len(printer.documents) == 1


def test_a_resident_with_no_insurance_is_told_plainly(scripted):
    start_certificate(scripted, "chen_ming")
    record = scripted.journey.flow.load()
    assert record.empty


def test_card_taken_away_mid_item_ends_and_wipes(scripted):
    start_certificate(scripted, "zhou_fang")
    scripted.journey.flow.load()
    scripted.kiosk.hub.emulator("idcard").remove()
    scripted.pump(lambda: scripted.journey.state == "farewell", 10, "the session to end")
    assert scripted.journey.end_reason == "card_removed" and scripted.journey.farewell.reason == "card_removed"
    assert not scripted.journey.session.holds_personal_data


def test_rating_rules_in_the_journey(scripted, reference_backend):
    start_certificate(scripted, "guo_qiang")
    scripted.journey.flow.load()
    txn = scripted.journey.session.transaction_no
    scripted.journey.finish(scripted.journey.flow.print_certificate())
    scripted.journey.to_rating()
    with pytest.raises(RatingError):
        scripted.journey.rate(Rating(Level.VERY_DISSATISFIED))  # a reason is required
    assert scripted.journey.state == "rating"
    assert scripted.journey.rating_timed_out()  # the timeout answers first
    assert not scripted.journey.rate(Rating(Level.SATISFIED))  # too late: nothing recorded
    scripted.kiosk.delivery.flush(10)
    mine = [r["payload"] for r in reference_backend.received("rating") if r["payload"]["transaction_no"] == txn]
    assert len(mine) == 1 and mine[0]["satisfaction"] == "not_rated"


def test_an_item_needing_the_backend_is_unavailable_while_offline(scripted):
    item = scripted.item_for_flow("contribution_certificate")
    scripted.journey.backend_online = False
    assert scripted.journey.unavailable_reason(item)[0].startswith("网络")
    with pytest.raises(JourneyError):
        scripted.journey.choose(item.id)
    scripted.journey.backend_online = True
    scripted.wait_device("printer")
    scripted.journey.choose(item.id)
    assert scripted.journey.state == "guide"


def test_an_expired_card_is_refused(scripted):
    item = scripted.item_for_flow("contribution_certificate")
    for name in ("idcard", *item.devices):  # the item is unavailable until its devices are up
        scripted.wait_device(name)
    scripted.journey.choose(item.id)
    scripted.journey.proceed()
    scripted.kiosk.hub.emulator("idcard").place("expired")
    scripted.pump(lambda: bool(scripted.refused), 10, "the card to be refused")
    assert scripted.journey.state == "identify"
    assert "有效期" in scripted.refused[0].message_zh


def test_simulated_receipts_are_kept_as_images_for_reviewers(scripted, kiosk_config):
    start_certificate(scripted, "wu_haitao")
    scripted.journey.flow.load()
    assert scripted.journey.flow.print_certificate().ok
    folder = kiosk_config.data_dir / "receipts"
    assert scripted.kiosk.hub.emulator("printer").wait_for_documents(1)
    assert any(p.suffix == ".png" and p.stat().st_size > 1000 for p in folder.iterdir())


def test_an_item_is_unavailable_only_when_every_accepted_reader_is_down(scripted):
    item = scripted.item_for_flow("contribution_certificate")
    assert set(item.identify) >= {"idcard", "sscard"} and "keyed" not in item.identify
    scripted.wait_device("idcard")
    scripted.wait_device("sscard")
    scripted.kiosk.hub.emulator("idcard").unplug()
    scripted.pump(lambda: scripted.kiosk.hub.unavailable_reason(["idcard"]) is not None, 20, "the ID reader down")
    assert scripted.journey.unavailable_reason(item) is None  # the social-security card still works
    scripted.kiosk.hub.emulator("sscard").unplug()
    scripted.pump(lambda: scripted.kiosk.hub.unavailable_reason(["sscard"]) is not None, 20, "the card reader down")
    reason = scripted.journey.unavailable_reason(item)
    assert reason is not None and "读" in reason[0]
    scripted.kiosk.hub.emulator("idcard").replug()
    scripted.pump(lambda: scripted.journey.unavailable_reason(item) is None, 20, "the ID reader back")


def test_the_terminal_reports_its_health_to_the_backend(scripted, reference_backend):
    scripted.wait_device("printer")
    scripted.kiosk.delivery.send_heartbeat()
    beats = [r["payload"] for r in reference_backend.received("heartbeat")]
    assert beats, "no heartbeat arrived"
    beat = beats[-1]
    assert beat["devices"]["printer"] == "online" and beat["paper"] == "full"
    assert beat["outbox_depth"] >= 0 and beat["in_service"] is True
