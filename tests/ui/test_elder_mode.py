"""大字版 (elder mode), measured on the rendered window: sizes per the MIIT 适老化 rules."""

from __future__ import annotations

import pytest

from tests.support import run_tour

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def facts(tmp_path_factory):
    tour = run_tour(tmp_path_factory.mktemp("elder"), "elder_sizes", 180)
    proc, result = tour["proc"], tour["result"]
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert result["ok"], result["failure"]
    return result["facts"]


def test_elder_mode_meets_the_size_rules(facts):
    for screen in ("elder_home", "elder_guide"):
        sizes = facts[screen]
        assert sizes["min_body_text_dp"] >= 18, sizes
        assert sizes["min_heading_text_dp"] >= 30, sizes
        assert sizes["min_button_height_dp"] >= 60 and sizes["min_button_width_dp"] >= 60, sizes


def test_standard_mode_targets_and_elder_mode_shows_fewer_bigger_items(facts):
    standard, elder = facts["standard_home"], facts["elder_home"]
    assert standard["min_button_height_dp"] >= 44
    assert elder["min_body_text_dp"] > standard["min_body_text_dp"]
    assert 0 < elder["tiles_on_page"] < standard["tiles_on_page"]
    assert facts["elder_mode_kept"] is True  # it stays on while the resident moves on


def test_a_switch_or_a_panel_draws_a_few_frames_and_no_more(facts):
    """Every frame is the whole window rasterised by the CPU: a tap draws its press, its answer
    and what settles after; nothing fades on for half a second (Kivy's scroll bar fade and panel
    fade did: 40-50 frames after each language or 大字版 switch on the guide)."""
    frames = facts["frames_after"]
    assert set(frames) == {"english", "chinese", "standard", "help"}
    assert all(1 <= n <= 4 for n in frames.values()), frames
