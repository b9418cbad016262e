"""Design tokens: contrast of every text pair, and elder-mode sizes per 适老化 rules."""

import pytest

from kiosk.widgets.theme import COLOURS, ELDER, STANDARD, TEXT_PAIRS, contrast_ratio


@pytest.mark.parametrize(("fg", "bg"), TEXT_PAIRS)
def test_text_contrast_is_at_least_4_5(fg, bg):
    assert contrast_ratio(COLOURS[fg], COLOURS[bg]) >= 4.5


def test_contrast_formula_on_known_values():
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)


def test_elder_mode_sizes():
    assert ELDER.body >= 18 and ELDER.small >= 18
    assert ELDER.heading >= 30 and ELDER.title >= 30
    assert ELDER.target >= 60
    assert ELDER.tiles_per_page < STANDARD.tiles_per_page
    assert STANDARD.target >= 44
