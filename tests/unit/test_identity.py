"""ID number check digit (GB 11643), masking, and the Identity value's masked repr."""

import datetime as dt

import pytest

from kiosk.identity import (
    CardType,
    Identity,
    id_check_digit,
    is_valid_id_number,
    mask_id_number,
    mask_name,
    mask_phone,
    nation_name,
)

# the worked example of GB 11643-1999
STANDARD_EXAMPLE = "11010519491231002X"


def test_check_digit_of_the_standard_example():
    assert id_check_digit(STANDARD_EXAMPLE[:17]) == "X"
    assert is_valid_id_number(STANDARD_EXAMPLE)


@pytest.mark.parametrize("last", "0123456789")
def test_every_wrong_check_digit_is_refused(last):
    assert not is_valid_id_number(STANDARD_EXAMPLE[:17] + last)


@pytest.mark.parametrize(
    "number",
    ["", "1101051949123100", "11010519491331002X", "11010519490230002X", "1101051949123100XX", "A10105194912310020"],
)
def test_malformed_numbers_are_refused(number):
    assert not is_valid_id_number(number)


def test_lower_case_x_is_accepted():
    assert is_valid_id_number(STANDARD_EXAMPLE.lower())


def test_check_digit_needs_17_digits():
    with pytest.raises(ValueError):
        id_check_digit("123")


def test_masking_keeps_only_the_ends():
    assert mask_id_number(STANDARD_EXAMPLE) == "110***********002X"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜") == "欧**"
    assert mask_name("刘䶮") == "刘*"
    assert mask_name("𠮷野") == "𠮷*"  # a character outside the BMP counts as one
    assert mask_phone("13853801201") == "138****1201"


def test_identity_never_prints_its_number_or_name():
    who = Identity(CardType.RESIDENT, "王建国", STANDARD_EXAMPLE, birth_date=dt.date(1949, 12, 31))
    for text in (repr(who), str(who), f"{who}", repr([who])):
        assert STANDARD_EXAMPLE not in text
        assert "王建国" not in text
    assert who.masked_id == "110***********002X"


def test_long_term_documents_never_expire():
    who = Identity(CardType.RESIDENT, "李四", STANDARD_EXAMPLE, long_term=True)
    assert not who.is_expired(dt.date(2099, 1, 1))
    old = Identity(CardType.RESIDENT, "李四", STANDARD_EXAMPLE, valid_to=dt.date(2020, 1, 1))
    assert old.is_expired(dt.date(2026, 1, 1))


def test_nation_names():
    assert nation_name("01") == "汉族"
    assert nation_name("05") == "维吾尔族"
    assert nation_name("56") == "基诺族"
    assert nation_name("97") == "其他"
    assert nation_name("98") == "外国血统中国籍人士"
