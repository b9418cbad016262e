"""No card at hand: the ID number keyed on the keypad, checked, and never shown in full."""

from __future__ import annotations

import pytest

from kiosk.sim.demo_data import BY_KEY
from tests.support import run_tour

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    tour = run_tour(tmp_path_factory.mktemp("keyed"), "keyed_card_status", 240)
    proc, data = tour["proc"], tour["result"]
    assert proc.returncode == 0 and data["ok"], data.get("failure") or proc.stderr[-2000:]
    return data


def test_a_wrong_check_digit_is_refused_in_words_and_nothing_moves(result):
    assert "身份证号码有误" in result["facts"]["wrong_number_message"]
    assert result["facts"]["screen_after_wrong_number"] == "identify"


def test_the_right_number_identifies_and_shows_the_lost_card(result):
    assert result["facts"]["identified_by"] == "keyed"
    status = " ".join(next(s for s in result["steps"] if s["name"] == "card-status-keyed")["texts"])
    assert "挂失" in status


def test_the_number_is_never_on_screen(result):
    number = BY_KEY["zhao_li"].id_number
    for step in result["steps"]:
        assert number not in " ".join(step["texts"]), step["name"]
