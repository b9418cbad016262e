"""Finding, straightening and sizing a page in a document camera's frame, on drawn pictures."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from kiosk.hardware import page_scan


def frame_with_page(corners, size=(1280, 960), pad=50, page=245) -> np.ndarray:
    frame = np.full((size[1], size[0], 3), pad, np.uint8)
    cv2.fillConvexPoly(frame, np.array(corners, np.int32), (page, page, page))
    # print on the page: lines of text that must not break the outline
    tl, tr, br, bl = (np.array(c, float) for c in corners)
    for t in np.linspace(0.15, 0.85, 12):
        a, b = tl + (bl - tl) * t, tr + (br - tr) * t
        cv2.line(frame, tuple(int(v) for v in a + (b - a) * 0.1), tuple(int(v) for v in a + (b - a) * 0.7), (20, 20, 20), 4)
    return frame


SKEWED = [(300, 150), (1000, 210), (960, 820), (250, 760)]


def test_a_skewed_page_is_found_corner_by_corner():
    corners = page_scan.find_page(frame_with_page(SKEWED))
    assert corners is not None
    assert np.abs(corners - np.array(SKEWED, np.float32)).max() < 6


def test_the_corners_come_back_in_order_whatever_order_they_were_drawn_in():
    shuffled = np.array([SKEWED[2], SKEWED[0], SKEWED[3], SKEWED[1]], np.float32)
    assert page_scan.order_corners(shuffled).tolist() == np.array(SKEWED, np.float32).tolist()


def test_straightening_gives_an_upright_page_of_the_right_shape():
    # an A4 page (1 : 1.414) seen in perspective
    frame = frame_with_page([(400, 100), (900, 110), (910, 820), (390, 810)])
    page = page_scan.straighten(frame, page_scan.find_page(frame))
    ratio = page.shape[0] / page.shape[1]
    assert 1.3 < ratio < 1.6
    # the pad is cut away: the border of the result is the page's colour
    grey = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY)
    assert grey[3, :].mean() > 200 and grey[:, 3].mean() > 200


@pytest.mark.parametrize("frame", [
    pytest.param(np.full((960, 1280, 3), 50, np.uint8), id="empty-pad"),
    pytest.param(frame_with_page([(600, 450), (660, 450), (660, 500), (600, 500)]), id="a-scrap"),
    pytest.param(np.full((960, 1280, 3), 245, np.uint8), id="all-white"),
])
def test_no_page_is_reported_when_none_lies_there(frame):
    assert page_scan.find_page(frame) is None
    assert page_scan.scan(frame) is None


def test_a_dark_card_on_the_pad_is_found_by_its_edges():
    frame = np.full((960, 1280, 3), 52, np.uint8)
    cv2.fillConvexPoly(frame, np.array([(300, 200), (980, 240), (950, 700), (270, 660)], np.int32), (150, 90, 40))
    assert page_scan.find_page(frame) is not None


def test_a_page_is_encoded_within_the_cap_however_busy_it_is():
    rng = np.random.default_rng(3)
    noise = rng.integers(0, 255, size=(1800, 1300, 3), dtype=np.uint8)  # the worst case for JPEG
    data = page_scan.encode(noise, max_bytes=300 * 1024)
    assert len(data) <= 300 * 1024
    assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) is not None
    small = page_scan.encode(np.full((800, 600, 3), 240, np.uint8))
    assert len(small) < 30 * 1024  # a plain page keeps its quality and stays small


def test_motion_is_zero_for_the_same_picture_and_large_for_a_moved_one():
    a = page_scan.small_grey(frame_with_page(SKEWED))
    shifted = [(x + 40, y + 25) for x, y in SKEWED]
    b = page_scan.small_grey(frame_with_page(shifted))
    assert page_scan.motion(a, a) == 0
    assert page_scan.motion(a, b) > 5


def test_a_page_never_shows_its_bytes_in_a_log_line():
    page = page_scan.scan(frame_with_page(SKEWED))
    assert repr(page).startswith("Page(") and "bytes)" in repr(page) and "\\x" not in repr(page)
