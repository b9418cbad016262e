"""The seal: a ring, the issuer round the top, a star, and 样章 when the document is a specimen."""

from __future__ import annotations

from PIL import ImageChops

from kiosk.seal import Seal, draw, in_colour, raster

ISSUER = "宁阳县社会保险事业中心"


def ink(image, box) -> int:
    return image.crop(box).point(lambda v: 255 if v > 128 else 0).histogram()[255]


def test_the_seal_has_a_ring_a_star_and_nothing_outside_the_circle():
    mask = draw(Seal(ISSUER), 400)
    assert ink(mask, (190, 190, 210, 210)) == 400  # the middle of the star
    assert ink(mask, (0, 190, 20, 210)) > 0 and ink(mask, (380, 190, 400, 210)) > 0  # the ring, left and right
    assert ink(mask, (0, 0, 40, 40)) == 0  # the corners are paper
    assert ink(mask, (110, 30, 290, 100)) > 500  # the issuer's name round the top


def test_a_specimen_says_so_where_the_seal_states_its_purpose():
    assert Seal(ISSUER, specimen=True).purpose == "样章" and Seal(ISSUER).purpose == "证明专用章"
    real, specimen = draw(Seal(ISSUER), 400), draw(Seal(ISSUER, specimen=True), 400)
    assert ImageChops.difference(real, specimen).getbbox()[1] > 250  # they differ below the star only


def test_red_on_paper_and_black_on_a_thermal_roll():
    red = in_colour(Seal(ISSUER), 200)
    assert red.getpixel((100, 100))[0] > 180 and red.getpixel((100, 100))[1] < 60
    assert red.getpixel((5, 5)) == (255, 255, 255)
    dots = raster(Seal(ISSUER, specimen=True), 208)
    assert dots.mode == "1" and dots.size == (208, 208) and dots.getpixel((104, 104)) == 0  # 0: ink
