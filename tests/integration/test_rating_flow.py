"""好差评 end to end: the journey's rating step, the real pad on a pty, the outbox, the backend.

Each session here is 政务服务地图 (no card, no printer), so the rating step is reached fast;
what is rated and sent is the same for every item.
"""

from __future__ import annotations

import queue
import threading
import time

import pytest

from kiosk.services.rating import PAD_NO_REASON, REASONS, Level, Rating, RatingError


def to_rating(s) -> str:
    item = s.item_for_flow("service_map")
    s.journey.choose(item.id)
    s.journey.proceed()
    txn = s.journey.session.transaction_no
    s.journey.finish(s.journey.flow.done_outcome())
    s.journey.to_rating()
    assert s.journey.state == "rating"
    return txn


def ratings_for(s, backend, txn: str) -> list[dict]:
    assert s.kiosk.delivery.flush(15) == 0
    return [r["payload"] for r in backend.received("rating") if r["payload"]["transaction_no"] == txn]


def drain(s, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            s.handle(s.events.get(timeout=0.05))
        except queue.Empty:
            pass


def prompt_pad(s):
    s.wait_device("ratingpad")
    pad, emulator = s.kiosk.hub.device("ratingpad"), s.kiosk.hub.emulator("ratingpad")
    pad.prompt(60)  # what the rating screen does on enter
    s.pump(lambda: emulator.lit, 10, "the pad to light up")
    return emulator


@pytest.mark.parametrize("level", [5, 4, 3, 2, 1])
def test_each_level_reaches_the_backend_with_its_satisfaction(scripted, reference_backend, level):
    txn = to_rating(scripted)
    reasons = ("slow", "device") if Level(level).needs_reason else ()
    assert scripted.journey.rate(Rating(Level(level), indicators=("overall", "attitude"), reasons=reasons))
    assert scripted.journey.state == "farewell" and scripted.journey.farewell.reason == "rated"  # 感谢您的评价
    assert not scripted.journey.session.holds_personal_data
    got = ratings_for(scripted, reference_backend, txn)
    assert len(got) == 1
    rating = got[0]
    assert rating["satisfaction"] == level
    assert rating["channel"] == "terminal" and rating["area_code"] == scripted.kiosk.config.terminal.area_code
    assert rating["item_name"] == "政务服务地图" and sorted(rating["indicators"]) == ["attitude", "overall"]
    assert rating["reason"] == ("；".join(REASONS[c][0] for c in reasons) if reasons else "")
    assert len(rating["evaluator_hash"]) == 64 and rating["rated_at"]


@pytest.mark.parametrize("level", [Level.DISSATISFIED, Level.VERY_DISSATISFIED])
def test_a_bad_rating_from_the_screen_needs_a_reason(scripted, reference_backend, level):
    txn = to_rating(scripted)
    with pytest.raises(RatingError):
        scripted.journey.rate(Rating(level, source="screen"))
    assert scripted.journey.state == "rating"  # still waiting for a proper answer
    assert scripted.journey.rate(Rating(level, reasons=("complex",)))
    assert [r["satisfaction"] for r in ratings_for(scripted, reference_backend, txn)] == [int(level)]


def test_pad_first_then_screen_counts_the_pad_once(scripted, reference_backend):
    txn = to_rating(scripted)
    emulator = prompt_pad(scripted)
    emulator.press(3)
    scripted.pump(lambda: scripted.journey.state == "farewell", 10, "the pad's rating")
    assert not scripted.journey.rate(Rating(Level.VERY_SATISFIED))  # the screen is too late
    got = ratings_for(scripted, reference_backend, txn)
    assert [r["satisfaction"] for r in got] == [3]


def test_screen_first_then_pad_counts_the_screen_once(scripted, reference_backend):
    txn = to_rating(scripted)
    emulator = prompt_pad(scripted)
    pressed = threading.Thread(target=emulator.press, args=(1,))
    pressed.start()  # the pad key and the screen tap at the same moment
    assert scripted.journey.rate(Rating(Level.SATISFIED, source="screen"))
    pressed.join(5)
    pad = scripted.kiosk.hub.device("ratingpad")
    scripted.pump(lambda: not pad.prompting, 10, "the pad's key to arrive")
    drain(scripted, 0.5)  # hand the pad's late RATING event to the journey
    assert scripted.journey.state == "farewell"
    got = ratings_for(scripted, reference_backend, txn)
    assert [r["satisfaction"] for r in got] == [4]
    assert not [r for r in reference_backend.received("rating") if r["payload"]["satisfaction"] == 1]


def test_a_bad_rating_on_the_pad_is_kept_and_marked_without_reason(scripted, reference_backend):
    txn = to_rating(scripted)
    emulator = prompt_pad(scripted)
    emulator.press(2)
    scripted.pump(lambda: scripted.journey.state == "farewell", 10, "the pad's rating")
    assert not scripted.refused
    got = ratings_for(scripted, reference_backend, txn)
    assert len(got) == 1 and got[0]["satisfaction"] == 2 and got[0]["reason"] == PAD_NO_REASON


def test_timeout_records_not_rated_and_nothing_else(scripted, reference_backend):
    txn = to_rating(scripted)
    assert scripted.journey.rating_timed_out()
    assert scripted.journey.state == "home"  # nothing to thank for, no card, no paper
    assert not scripted.journey.rate(Rating(Level.SATISFIED))  # a late tap counts for nothing
    got = ratings_for(scripted, reference_backend, txn)
    assert len(got) == 1 and got[0]["satisfaction"] == "not_rated"
    assert got[0]["indicators"] == [] and got[0]["reason"] == ""


def test_the_backend_learns_who_answered_and_the_reason_codes(scripted, reference_backend):
    from kiosk.services.rating import Level, Rating

    item = scripted.item_for_flow("contribution_certificate")
    scripted.wait_device("idcard")
    scripted.wait_device("printer")
    scripted.journey.choose(item.id)
    scripted.journey.proceed()
    scripted.identify_with_idcard("feng_wei")
    scripted.journey.flow.load()
    txn = scripted.journey.session.transaction_no
    scripted.journey.finish(scripted.journey.flow.print_certificate())
    scripted.journey.to_rating()
    assert scripted.journey.rate(Rating(Level.DISSATISFIED, reasons=("slow", "complex"), source="screen"))
    scripted.kiosk.delivery.flush(10)
    [sent] = [r["payload"] for r in reference_backend.received("rating") if r["payload"]["transaction_no"] == txn]
    assert sent["source"] == "screen" and sent["reason_codes"] == ["slow", "complex"]
    assert sent["channel_code"] == "5" and "办理时间太长" in sent["reason"]
