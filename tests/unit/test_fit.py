"""kiosk.widgets.fit: an English word too wide for its button shrinks; nothing else does."""

from __future__ import annotations

import os

os.environ.setdefault("KIVY_NO_ARGS", "1")

from kiosk.widgets.fit import fitting_size  # noqa: E402


def test_a_word_wider_than_the_button_shrinks_until_it_fits_or_reaches_the_floor():
    size = 30.0
    roomy = fitting_size("Simulator", 1000, size, True)
    narrow = fitting_size("Simulator", 90, size, True, 0.3)
    assert roomy == size
    assert narrow < size
    assert fitting_size("Simulator", 90, narrow, True, 1.0) <= narrow  # at that size it fits: no further shrink
    assert fitting_size("Simulator", 5, size, True, 0.55) == size * 0.55  # never below the floor


def test_chinese_and_short_words_keep_the_theme_size():
    assert fitting_size("社会保障卡临时挂失", 40, 30.0) == 30.0  # Chinese wraps between characters
    assert fitting_size("Print your social security card record", 150, 20.0) == 20.0  # wraps between words
    assert fitting_size("", 10, 20.0) == 20.0
