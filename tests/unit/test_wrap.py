"""Screen labels break lines where a reader expects (the rule of kiosk.linebreak)."""

import pytest

from kiosk.linebreak import wrap


def widths(per_char: float, room: float):
    return lambda line: len(line) * per_char <= room


def test_a_number_inside_chinese_text_stays_on_one_line():
    lines = wrap("本自助终端；掌上12333 App；社保服务窗口", widths(10, 100))
    assert all("12333" in line or not any(ch.isdigit() for ch in line) for line in lines)
    assert "".join(lines).replace(" ", "") == "本自助终端；掌上12333App；社保服务窗口"


def test_chinese_breaks_between_characters_and_english_at_spaces():
    assert wrap("请将居民身份证放在读卡区", widths(10, 60)) == ["请将居民身份", "证放在读卡区"]
    assert wrap("Place your ID card", widths(10, 110)) == ["Place your", "ID card"]


@pytest.mark.parametrize("text", ["【已选】2026年", "参考号：NY-370921-0001-20261207100803-F084"])
def test_numbers_and_references_are_never_cut_inside_a_digit_group(text):
    longest = max(len(group) for group in text.replace("：", "-").split("-"))
    for room in range((longest + 1) * 10, 400, 20):  # a group wider than a line must be cut
        lines = wrap(text, widths(10, room))
        for a, b in zip(lines, lines[1:], strict=False):
            assert not (a[-1:].isdigit() and b[:1].isdigit()), (room, lines)
