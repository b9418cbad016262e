"""好差评 rules: five levels, reasons for bad ratings, first answer wins once."""

import datetime as dt
import threading

import pytest

from kiosk.services.rating import (
    Level,
    Rating,
    RatingArbiter,
    RatingError,
    evaluator_token,
    rating_payload,
)


def test_five_levels_with_their_names():
    assert [lvl.label_zh for lvl in sorted(Level, reverse=True)] == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    assert [lvl.needs_reason for lvl in Level] == [False, False, False, True, True]


@pytest.mark.parametrize("level", [Level.DISSATISFIED, Level.VERY_DISSATISFIED])
def test_bad_ratings_need_a_reason(level):
    with pytest.raises(RatingError):
        Rating(level).validate()
    Rating(level, reasons=("slow",)).validate()


def test_unknown_codes_and_a_not_rated_record_with_reasons_are_refused():
    with pytest.raises(RatingError):
        Rating(Level.SATISFIED, indicators=("speed",)).validate()
    with pytest.raises(RatingError):
        Rating(None, reasons=("slow",)).validate()


def test_payload_has_the_national_fields_and_no_id_number():
    token = evaluator_token("11010519491231002X", b"k")
    payload = rating_payload(Rating(Level.SATISFIED, indicators=("efficiency",)), transaction_no="T1", area_code="370921",
                             item_id="x", item_name="个人参保缴费证明查询打印", evaluator_hash=token,
                             evaluator_masked="王**", at=dt.datetime(2026, 11, 23, 9, 0))
    assert payload["satisfaction"] == 4
    assert payload["channel"] == "terminal"
    assert payload["indicators"] == ["efficiency"]
    assert len(payload["evaluator_hash"]) == 64
    assert "11010519491231002X" not in str(payload)
    bad = rating_payload(Rating(Level.DISSATISFIED, reasons=("slow", "complex")), transaction_no="T3", area_code="370921",
                         item_id="x", item_name="x", evaluator_hash=token, evaluator_masked="", at=dt.datetime(2026, 11, 23))
    assert bad["reason"] == "办理时间太长；操作太复杂"
    not_rated = rating_payload(Rating(None, source="timeout"), transaction_no="T2", area_code="370921",
                               item_id="x", item_name="x", evaluator_hash=token, evaluator_masked="", at=dt.datetime(2026, 11, 23))
    assert not_rated["satisfaction"] == "not_rated"


def test_first_answer_wins_once_under_a_race():
    arbiter = RatingArbiter()
    start = threading.Barrier(8)
    wins = []

    def answer(i):
        start.wait()
        if arbiter.offer(Rating(Level(1 + i % 5), reasons=("slow",) if i % 5 < 2 else (), source=f"s{i}")):
            wins.append(i)

    threads = [threading.Thread(target=answer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    assert arbiter.winner.source == f"s{wins[0]}"


def test_the_evaluator_token_is_one_per_resident_and_secret():
    card, keyed = "11010519491231002X", " 11010519491231002x"
    assert evaluator_token(card, b"k") == evaluator_token(keyed, b"k")  # read or keyed in: one person
    assert evaluator_token(card, b"k") != evaluator_token(card, b"other terminal secret")
    assert evaluator_token(card, b"k") != evaluator_token("110105194912310038", b"k")
