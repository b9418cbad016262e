"""The layout audit's pure parts: where a wrapped word was cut, and the widest bare band."""

from kiosk.tours.layout import bare_share, broken_words


def test_a_number_cut_across_two_lines_is_found():
    assert broken_words("【已选】2026年", [("【已选】20", False), ("26年", True)]) == ["【已选】20|26年"]


def test_a_word_cut_in_the_middle_is_found_but_a_break_at_a_space_is_not():
    assert broken_words("Open the Simulator", [("Open the Simulato", False), ("r", True)]) == ["mulato|r"]
    assert broken_words("Open the Simulator", [("Open the", False), ("Simulator", True)]) == []


def test_chinese_may_wrap_between_any_two_characters():
    assert broken_words("请将居民身份证放在读卡区", [("请将居民身份证", False), ("放在读卡区", True)]) == []


def test_paragraph_ends_are_not_breaks():
    assert broken_words("2026\n2027", [("2026", True), ("2027", True)]) == []


def test_the_widest_uncovered_band_and_where_it_is():
    share, at_from_top = bare_share((0, 0, 100, 1000), [(900, 1000), (600, 700), (0, 100)])
    assert round(share, 2) == 0.5 and round(at_from_top, 2) == 0.4  # 100..600 uncovered


def test_a_fully_covered_area_has_no_bare_band():
    assert bare_share((0, 0, 10, 100), [(0, 60), (50, 100)])[0] == 0.0
