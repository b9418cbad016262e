"""Printed lines break beside Chinese characters, between words and number groups, never inside a number."""

from __future__ import annotations

import re

import pytest

from kiosk.hardware.receipt_escpos import display_width
from kiosk.linebreak import wrap

TXN = "NY-370921-0001-20261123101010-AB12"
URL = "http://127.0.0.1:8765/v1/certificates/verify?code=1A2B-3C4D-5E6F-7081"


def columns(width: int):
    return lambda line: display_width(line) <= width


@pytest.mark.parametrize("width", [16, 20, 24, 30, 32])
def test_a_transaction_number_loses_no_digit_to_the_next_line(width):
    lines = wrap(TXN, columns(width))
    assert "".join(lines) == TXN and all(display_width(line) <= width for line in lines)
    groups = TXN.split("-")
    for line in lines:  # every line holds whole groups: it starts and ends at a dash or an end
        for piece in filter(None, line.split("-")):
            assert piece in groups, (piece, lines)
    assert wrap(TXN, columns(48)) == [TXN]


def test_an_address_breaks_between_its_parts_and_keeps_its_code_whole():
    lines = wrap(URL, columns(30))
    assert lines == ["http://127.0.0.1:8765/v1/", "certificates/verify?", "code=1A2B-3C4D-5E6F-7081"]


def test_chinese_breaks_anywhere_and_words_at_spaces():
    assert wrap("一二三四", columns(5)) == ["一二", "三四"]
    assert wrap("企业职工基本养老保险 基本养老金", columns(30)) == ["企业职工基本养老保险", "基本养老金"]


def test_an_amount_moves_whole_to_the_next_line():
    assert wrap("合计￥1,234.56元", columns(10)) == ["合计", "￥1,234.56", "元"]
    for line in wrap("个人缴费合计 ￥182,024.00 应缴未缴 ￥704.00", columns(14)):
        assert not re.match(r"^[\d,.]", line), line  # no line starts inside an amount


def test_a_run_wider_than_the_line_is_cut_where_it_must_be():
    assert wrap("A" * 10, columns(4)) == ["AAAA", "AAAA", "AA"]
