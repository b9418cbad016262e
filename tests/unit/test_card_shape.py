"""kiosk.widgets.card: a card's picture (fill, border, shade, antialiased corners) and where it
is drawn. The screenshot tour compares every screen drawn with it to the reviewed pictures."""

from __future__ import annotations

import os

os.environ.setdefault("KIVY_NO_ARGS", "1")

from kiosk.widgets.card import CLEAR, card_picture, placement  # noqa: E402

WHITE = (1.0, 1.0, 1.0, 1.0)
GREY = (0.8, 0.8, 0.8, 1.0)
BLUE = (0.0, 0.3, 0.7, 1.0)


def test_the_picture_has_a_border_a_fill_and_clear_rounded_corners():
    picture = card_picture(10, 3, WHITE, GREY)
    w, h = picture.size
    assert (w, h) == (2 * 11 + 3, 2 * 11 + 3)  # corners of radius + 1 and a 3-pixel middle
    assert picture.getpixel((0, 0))[3] == 0  # outside the arc: nothing drawn
    assert picture.getpixel((w // 2, h // 2)) == (255, 255, 255, 255)  # the fill
    assert picture.getpixel((1, h // 2)) == (204, 204, 204, 255)  # the border, 3 px wide
    assert picture.getpixel((w // 2, h - 2)) == (204, 204, 204, 255)
    assert picture.getpixel((4, h // 2)) == (255, 255, 255, 255)  # inside the border: the fill
    # the arc is antialiased: a pixel it crosses is partly covered
    assert any(0 < picture.getpixel((x, y))[3] < 255 for x in range(6) for y in range(6))


def test_a_clear_fill_leaves_a_ring_and_a_shade_darkens_the_card():
    ring = card_picture(10, 2, CLEAR, GREY)
    w, h = ring.size
    assert ring.getpixel((w // 2, h // 2))[3] == 0
    assert ring.getpixel((0, h // 2))[3] == 255
    pressed = card_picture(10, 0, BLUE, CLEAR, (0, 0, 0, 0.2))
    r, g, b, a = pressed.getpixel((w // 2, h // 2))
    assert a == 255 and (r, g, b) == (0, round(0.3 * 0.8 * 255), round(0.7 * 0.8 * 255))


def test_a_card_is_placed_on_whole_pixels_and_shares_its_look_with_its_kind():
    placed = placement((10.4, 20.6), (300.3, 99.6), 14.2, 2.8, WHITE, GREY, CLEAR)
    assert placed is not None
    (x, y), (w, h), look = placed
    assert (x, y, w, h) == (10, 21, 301, 99)  # right edge 310.7 -> 311, top 120.2 -> 120
    other = placement((500, 20), (120, 300), 14.2, 2.8, WHITE, GREY, CLEAR)
    assert other is not None and other[2] == look  # another size: the same 9-slice picture
    assert look[0] == 15 and look[-1] is None


def test_a_small_card_or_a_circle_gets_a_picture_of_its_size():
    placed = placement((0, 0), (48, 48), 24, 2.8, CLEAR, GREY, CLEAR)
    assert placed is not None
    _pos, size, look = placed
    assert look[0] == 24 and look[-1] == (48, 48) == size
    circle = card_picture(24, 2.8, CLEAR, GREY, size=(48, 48))
    assert circle.size == (48, 48)
    assert circle.getpixel((0, 0))[3] == 0 and circle.getpixel((24, 0))[3] > 200  # round, ringed


def test_nothing_visible_draws_nothing():
    assert placement((0, 0), (100, 100), 10, 2, CLEAR, CLEAR, CLEAR) is None
    assert placement((0, 0), (100, 100), 10, 0, CLEAR, GREY, CLEAR) is None
    assert placement((0, 0), (0, 100), 10, 2, WHITE, GREY, CLEAR) is None  # a collapsed button
    assert placement((0, 0), (100, 100), 10, 0, WHITE, CLEAR, CLEAR) is not None
