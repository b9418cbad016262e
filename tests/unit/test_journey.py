"""The journey's own rules on the fakes: when nothing may start, a card taken away, 好差评 races.

Where a visit ends and the next begins (cards left behind, the farewell) is in
test_journey_visits.py; these are the rules about whether an item may start at all and about
which answer a rating is.
"""

from __future__ import annotations

import datetime as dt

import pytest

from kiosk.errors import JourneyError
from kiosk.hardware.base import DeviceStatus, PaperStatus
from kiosk.services.journey import Outcome
from kiosk.services.rating import Level, Rating
from kiosk.sim.demo_data import BY_KEY
from tests.support.fakes import FakeTerminal, fake_terminal

GUIDE = "sscard_password_reset"  # 一次性告知 only: nothing to run, nothing to journal
CERTIFICATE = "rights_record"  # online, identifies by ID card or social-security card, prints


@pytest.fixture
def t() -> FakeTerminal:
    return fake_terminal()


def refusal(t: FakeTerminal, item_id: str) -> str:
    with pytest.raises(JourneyError) as refused:
        t.journey.choose(item_id)
    assert t.journey.state == "home"
    return refused.value.message_zh


# --- when nothing may start ------------------------------------------------------------------------


def test_under_maintenance_no_item_starts_not_even_a_guide(t):
    t.journey.maintenance = True
    assert refusal(t, CERTIFICATE) == refusal(t, GUIDE) == "终端维护中，暂停服务"
    t.journey.maintenance = False
    t.journey.choose(GUIDE)
    assert t.journey.state == "guide"


def test_outside_service_hours_nothing_starts_and_the_hours_are_said():
    t = fake_terminal(service_hours={"always_open": False, "open": dt.time(8, 0), "close": dt.time(20, 0)})
    t.clock.set(7, 59)
    assert "08:00–20:00" in refusal(t, GUIDE)
    t.clock.set(20, 0)  # closing time is closed
    assert refusal(t, CERTIFICATE).startswith("不在服务时间")
    t.clock.set(8, 0)
    t.journey.choose(CERTIFICATE)
    assert t.journey.state == "guide"


def test_a_24_hour_terminal_serves_at_night(t):
    t.clock.set(3, 0)
    t.journey.choose(CERTIFICATE)
    assert t.journey.state == "guide"


def test_an_online_item_waits_for_the_backend_but_a_guide_does_not(t):
    t.journey.backend_online = False
    assert refusal(t, CERTIFICATE) == "网络暂时不可用，此事项暂停办理"
    t.journey.choose(GUIDE)
    assert t.journey.state == "guide"


def test_one_working_reader_is_enough_to_identify(t):
    t.devices.readers["idcard"].state = DeviceStatus.OFFLINE
    t.journey.choose(CERTIFICATE)  # the social-security card slot still works
    t.journey.end("cancelled")
    t.devices.readers["sscard"].state = DeviceStatus.OFFLINE
    assert refusal(t, CERTIFICATE) == "身份证阅读器暂时离线"


def test_a_printer_out_of_paper_stops_the_items_that_print(t):
    t.printer.paper_state = PaperStatus.OUT
    assert refusal(t, CERTIFICATE) == "打印机缺纸"
    t.journey.choose("insured_status_query")  # a query prints nothing
    assert t.journey.state == "guide"


# --- a card taken away ---------------------------------------------------------------------------------


def test_pulling_the_identifying_card_mid_item_ends_the_visit_and_wipes_it(t):
    t.start(CERTIFICATE, "wang_jianguo", via="sscard")
    assert t.journey.session.identified_by == "sscard"
    t.devices.take("sscard")
    assert t.journey.state == "farewell" and t.journey.end_reason == "card_removed"
    assert t.journey.flow is None and not t.journey.session.holds_personal_data


def test_taking_away_a_card_that_did_not_identify_leaves_the_item_running(t):
    t.devices.place("sscard", object())  # something else lying in the slot
    t.start(CERTIFICATE, "wang_jianguo", via="idcard")
    t.devices.take("sscard")
    assert t.journey.state == "item" and t.journey.session.identity is not None


def test_taking_the_card_once_the_result_is_shown_does_not_cut_the_rating(t):
    t.start(CERTIFICATE, "wang_jianguo")
    t.journey.finish(Outcome(True, "打印完成", "Printed"))
    t.devices.take("idcard")
    assert t.journey.state == "result"
    t.journey.to_rating()
    assert t.journey.state == "rating"


# --- 好差评: exactly one answer counts --------------------------------------------------------------------


def to_rating(t: FakeTerminal) -> None:
    t.start(CERTIFICATE, "wang_jianguo")
    t.journey.finish(Outcome(True, "打印完成", "Printed"))
    t.journey.to_rating()


def ratings(t: FakeTerminal) -> list[tuple[object, str]]:
    return [(r["satisfaction"], r["source"]) for r in t.outbox.of("rating")]


def test_pad_first_then_screen_counts_the_pad_once(t):
    to_rating(t)
    t.devices.press(5)
    assert not t.journey.rate(Rating(Level.SATISFIED))  # the screen's tap comes second
    assert ratings(t) == [(5, "pad")]
    assert t.journey.farewell.reason == "rated"


def test_screen_first_then_pad_counts_the_screen_once(t):
    to_rating(t)
    assert t.journey.rate(Rating(Level.BASICALLY_SATISFIED))
    t.devices.press(1)
    assert ratings(t) == [(3, "screen")]


def test_a_late_tap_after_the_timeout_changes_nothing(t):
    to_rating(t)
    assert t.journey.rating_timed_out()
    t.devices.press(5)
    assert not t.journey.rate(Rating(Level.VERY_SATISFIED))
    assert ratings(t) == [("not_rated", "timeout")]
    assert t.journey.farewell.reason == "rating_timeout"


def test_a_pad_key_before_the_rating_screen_is_no_rating(t):
    t.start(CERTIFICATE, "wang_jianguo")
    t.journey.finish(Outcome(True, "打印完成", "Printed"))
    t.devices.press(1)  # pressed while the result was still up
    t.journey.to_rating()
    t.devices.press(4)
    assert ratings(t) == [(4, "pad")]


def test_the_rating_names_the_matter_and_hides_the_resident(t):
    to_rating(t)
    txn = t.journey.session.matter_no
    t.devices.press(5)
    (sent,) = t.outbox.of("rating")
    assert sent["transaction_no"] == txn and sent["item_id"] == CERTIFICATE
    assert sent["evaluator_masked"] == "王**" and len(sent["evaluator_hash"]) == 64
    resident = BY_KEY["wang_jianguo"]
    assert resident.name not in str(sent) and resident.id_number not in str(sent)


def test_the_rating_is_written_behind_the_tap_and_still_lands(t):
    writes = []
    t.journey.ports.write_behind = writes.append  # the app's worker, held back
    to_rating(t)
    assert t.journey.rate(Rating(Level.SATISFIED))
    assert t.journey.farewell.reason == "rated" and ratings(t) == []  # the tap did not wait on the disk
    (write,) = writes
    write()  # the worker's turn
    assert ratings(t) == [(4, "screen")]
