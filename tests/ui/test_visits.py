"""Where one visit ends and the next begins, through the real window with real touches.

A card left in a reader identified the next resident (the identify step passed in ~40 ms with
the previous resident's records on screen); English, 大字版 and the chosen category were carried
to the next resident. These tours reproduce both and show them closed.
"""

from __future__ import annotations

import pytest

from kiosk.heap import FULL_AFTER
from tests.support import run_tour, step

pytestmark = pytest.mark.ui

SHORT = {"take_card_timeout_s = 180": "take_card_timeout_s = 30", "idle_timeout_s = 120": "idle_timeout_s = 30"}


@pytest.fixture(scope="module")
def left(tmp_path_factory):
    return run_tour(tmp_path_factory.mktemp("left"), "card_left_behind", timeout=400, **SHORT)


@pytest.fixture(scope="module")
def reset(tmp_path_factory):
    return run_tour(tmp_path_factory.mktemp("reset"), "choices_reset", timeout=300, **SHORT)


def test_the_card_tour_passes(left):
    assert left["proc"].returncode == 0, left["proc"].stdout[-3000:] + left["proc"].stderr[-3000:]
    assert left["result"]["ok"], left["result"]["failure"]


def test_a_visit_ending_with_a_card_in_a_reader_asks_for_it_and_cannot_be_skipped(left):
    facts = left["result"]["facts"]
    first = facts["farewell-sscard"]
    assert first["cards"] == ["sscard"]
    assert "请取走您的社会保障卡" in first["texts"] and "感谢您的评价" in first["texts"]
    assert facts["farewell-sscard_skip_refused"]
    assert facts["farewell-both"]["cards"] == ["idcard", "sscard"]
    assert "请取走您的身份证、社会保障卡和证明" in facts["farewell-both"]["texts"]
    assert facts["beeps"] >= 3  # a short beep every few seconds while a card is left
    assert "请取走您的社会保障卡" in facts["spoken"]


def test_a_social_security_card_left_in_the_slot_identifies_nobody(left):
    seen = left["result"]["facts"]["identify-sscard-left"]
    assert seen["state"] == "identify" and not seen["identified"]
    assert seen["lift"] == ["sscard"]
    assert "读卡口内已有一张社会保障卡，请拔出后重新插入您的卡" in seen["texts"]
    assert left["result"]["facts"]["second_identified_by"] == "idcard"  # their own card, placed after


def test_an_id_card_left_on_the_reader_identifies_nobody_until_it_is_placed_again(left):
    facts = left["result"]["facts"]
    seen = facts["identify-both-left"]
    assert seen["state"] == "identify" and not seen["identified"]
    assert seen["lift"] == ["idcard", "sscard"]
    assert "读卡区上已有一张身份证，请取走后重新放置您的证件" in " ".join(seen["texts"])
    assert facts["after_lift"] == {"state": "identify", "lift": ["sscard"]}  # lifted: no longer asked
    assert facts["third_identified_by"] == "idcard"  # placed again, after the session began


def test_the_left_cards_pictures_were_drawn(left):
    shot = left["out"] / step(left, "identify-both-left")["png"]
    assert shot.stat().st_size > 20_000


def test_a_residents_language_mode_and_category_do_not_reach_the_next(reset):
    assert reset["proc"].returncode == 0, reset["proc"].stdout[-3000:] + reset["proc"].stderr[-3000:]
    assert reset["result"]["ok"], reset["result"]["failure"]
    facts = reset["result"]["facts"]
    assert facts["chosen"]["lang"] == "en" and facts["chosen"]["elder"]
    assert facts["chosen"]["category"] != facts["default"]["category"]
    assert facts["after"] == facts["default"]
    assert "No one was here for a while, so this visit has ended" in " ".join(facts["farewell_texts"])


@pytest.fixture(scope="module")
def printer_down(tmp_path_factory):
    return run_tour(tmp_path_factory.mktemp("printer"), "printer_known_down")


def test_full_collections_wait_for_the_visit_s_end(reset):
    heap = reset["result"]["facts"]["heap"]
    assert heap["full_after"] == FULL_AFTER  # tuned once the first frame was drawn
    assert heap["visits_collected"] >= 1  # the timed-out visit's garbage, collected once home was drawn


def test_a_printer_known_to_be_out_of_paper_cannot_be_pressed_into_and_says_why(printer_down):
    assert printer_down["proc"].returncode == 0, printer_down["proc"].stdout[-3000:]
    assert printer_down["result"]["ok"], printer_down["result"]["failure"]
    facts = printer_down["result"]["facts"]
    assert facts["before"]["enabled"]
    assert not facts["paper_out"]["enabled"]
    assert facts["paper_out"]["zh"] == "打印机缺纸，暂不能打印"
    assert facts["paper_out"]["en"] == "Cannot print now: The printer is out of paper"
    assert facts["after_press"] == {"screen": "query", "documents": 0}
    assert facts["tile"] == {"available": False, "note": "打印机缺纸"}  # home says so before it starts
    assert facts["back"]  # a new roll: available again


def test_an_unknown_account_keeps_the_number_and_nothing_moves(tmp_path):
    tour = run_tour(tmp_path, "account_typo")
    assert tour["result"]["ok"], tour["result"]["failure"]
    facts = tour["result"]["facts"]
    assert facts["after_error"]["value"] == "99999999" and facts["after_error"]["message"]
    assert facts["after_key"] == {"value": "9999999", "message": "", "keypad_y": facts["keypad_y_before"]}
    assert facts["after_error"]["keypad_y"] == facts["keypad_y_before"]


def test_left_alone_at_home_the_terminal_builds_every_screen_ahead_then_settles(tmp_path):
    tour = run_tour(tmp_path, "built_ahead", timeout=300)
    result = tour["result"]
    assert tour["proc"].returncode == 0 and result.get("ok"), (result.get("failure"), tour["proc"].stderr[-3000:])
    facts = result["facts"]
    assert "guide" not in facts["at_start"]  # nothing but home at first
    assert facts["around_screens"] == []  # no stencil fills around the screens on every frame
    assert facts["built"] == facts["expected"]  # every resident's screen, none of the technicians'
    assert facts["frozen"] > 0  # the idle pass ran after them
    assert facts["guide_title"] == "个人参保缴费证明查询打印"  # a screen built ahead shows the visit's item
    assert "请核验身份" in step(tour, "identify-built-ahead")["texts"]
