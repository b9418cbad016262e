"""The 256-byte text block: every card type, 长期, rare names, bad data, random input."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.errors import KioskError
from kiosk.hardware.idcard_text import (
    CardDataError,
    encode_text_block,
    parse_card,
    parse_text_block,
)
from kiosk.identity import CardType, Identity, Sex, id_check_digit
from kiosk.sim.demo_data import RESIDENTS
from kiosk.sim.idcard_emulator import demo_cards


def _field(text: str, size: int) -> bytes:
    raw = text.encode("utf-16-le")
    return raw + " ".encode("utf-16-le") * ((size - len(raw)) // 2)


def _resident_block(name="张秀英", number=None, valid_to="长期", flag=" ") -> bytes:
    number = number or RESIDENTS[0].id_number
    block = (
        _field(name, 30) + _field("2", 2) + _field("01", 4) + _field("19560312", 16)
        + _field("山东省泰安市宁阳县葛石镇东庄村12号", 70) + _field(number, 36)
        + _field("宁阳县公安局", 30) + _field("20160101", 16) + _field(valid_to, 16)
        + _field("", 28) + _field(flag, 2) + _field("", 6)
    )
    assert len(block) == 256
    return block


def test_a_resident_card_built_by_hand_parses_field_by_field():
    ident = parse_text_block(_resident_block())
    assert ident.card_type == CardType.RESIDENT
    assert ident.name == "张秀英"
    assert ident.sex == Sex.FEMALE
    assert ident.nation == "01"
    assert ident.birth_date == dt.date(1956, 3, 12)
    assert ident.address == "山东省泰安市宁阳县葛石镇东庄村12号"
    assert ident.id_number == RESIDENTS[0].id_number
    assert ident.authority == "宁阳县公安局"
    assert ident.valid_from == dt.date(2016, 1, 1)
    assert ident.long_term is True and ident.valid_to is None
    assert not ident.is_expired(dt.date(2099, 1, 1))


def test_a_nul_flag_is_a_resident_card_too():
    block = bytearray(_resident_block())
    block[248:250] = b"\x00\x00"
    assert parse_text_block(bytes(block)).card_type == CardType.RESIDENT


def test_a_dated_card_has_its_valid_to_and_can_expire():
    ident = parse_text_block(_resident_block(valid_to="20360101"))
    assert ident.long_term is False and ident.valid_to == dt.date(2036, 1, 1)
    assert ident.is_expired(dt.date(2036, 1, 2)) and not ident.is_expired(dt.date(2035, 12, 31))


def test_the_hmt_permit_layout_carries_the_permit_number_and_issue_count():
    block = encode_text_block(demo_cards()["hmt_permit"])
    assert block[248:250] == "J".encode("utf-16-le")
    assert block[220:238].decode("utf-16-le") == "H12345678"  # permit number at byte 220
    ident = parse_text_block(block)
    assert ident.card_type == CardType.HMT_PERMIT
    assert ident.extra == {"permit_number": "H12345678", "issue_count": "01"}
    assert ident.nation == "" and ident.id_number.startswith("81")


def test_the_2017_foreigner_card_layout():
    block = encode_text_block(demo_cards()["foreigner_2017"])
    assert block[0:22].decode("utf-16-le") == "SMITH, JOHN"  # English name first, 120 bytes
    assert block[122:152].decode("utf-16-le") == "USA370800101001"  # 15 characters at 122
    ident = parse_text_block(block)
    assert ident.card_type == CardType.FOREIGN_PERMANENT
    assert (ident.name, ident.english_name, ident.nationality) == ("约翰·史密斯", "SMITH, JOHN", "USA")
    assert ident.birth_date == dt.date(1980, 1, 1)
    assert ident.authority == "1500" and ident.extra == {"card_version": "11"}


def test_a_foreigner_without_a_chinese_name_is_named_in_english():
    card = dataclasses.replace(demo_cards()["foreigner_2017"], name="SMITH, JOHN")
    assert parse_text_block(encode_text_block(card)).name == "SMITH, JOHN"


def test_the_2023_foreigner_card_joins_the_two_english_name_parts():
    card = demo_cards()["foreigner_2023"]
    assert len(card.english_name) > 35  # long enough to spill into part 2
    block = encode_text_block(card)
    assert block[220:242].decode("utf-16-le").strip() == card.english_name[35:]
    ident = parse_text_block(block)
    assert ident.card_type == CardType.FOREIGN_PERMANENT_2023
    assert ident.english_name == card.english_name
    assert ident.id_number == card.id_number and ident.id_number.startswith("9")
    assert ident.nationality == "USA" and ident.extra["renewal_count"] == "00"


def test_a_space_at_the_english_name_split_survives():
    card = dataclasses.replace(demo_cards()["foreigner_2023"], english_name="A" * 35 + " BEE")
    assert parse_text_block(encode_text_block(card)).english_name == "A" * 35 + " BEE"


@pytest.mark.parametrize("key", sorted(demo_cards()))
def test_every_demo_card_round_trips(key):
    card = demo_cards()[key]
    assert parse_text_block(encode_text_block(card)) == card


def test_demo_cards_follow_the_validity_rule_and_include_an_expired_one():
    cards = demo_cards()
    assert cards["zhang_xiuying"].long_term  # born 1956
    assert not cards["he_jing"].long_term
    assert cards["he_jing"].valid_to.year - cards["he_jing"].valid_from.year == 20
    assert cards["expired"].is_expired()


@pytest.mark.parametrize("name", ["刘䶮", "𠮷野家", "王𠮷𠮷"])
def test_rare_name_characters_round_trip_intact(name):
    ident = parse_text_block(_resident_block(name=name))
    assert ident.name == name
    assert encode_text_block(ident)[:30] == _field(name, 30)


def test_a_wrong_check_digit_is_refused_without_showing_the_number():
    good = RESIDENTS[0].id_number
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(CardDataError) as info:
        parse_text_block(_resident_block(number=wrong))
    assert "check digit" in str(info.value)
    assert wrong not in str(info.value)


def test_a_wrong_check_digit_on_a_2023_card_is_refused():
    card = demo_cards()["foreigner_2023"]
    bad = dataclasses.replace(card, id_number=card.id_number[:17] + ("1" if card.id_number[17] == "0" else "0"))
    with pytest.raises(CardDataError):
        parse_text_block(encode_text_block(bad))


def test_a_malformed_2017_number_is_refused():
    card = dataclasses.replace(demo_cards()["foreigner_2017"], id_number="US1370800101001")
    with pytest.raises(CardDataError, match="3 letters"):
        parse_text_block(encode_text_block(card))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"flag": "Q"}, "flag"),
        ({"valid_to": "20361341"}, "valid_to"),
        ({"valid_to": "2036ab01"}, "valid_to"),
    ],
)
def test_bad_fields_are_named(change, match):
    with pytest.raises(CardDataError, match=match):
        parse_text_block(_resident_block(**change))


def test_bad_sex_and_nation_codes_are_refused():
    block = bytearray(_resident_block())
    block[30:32] = "7".encode("utf-16-le")
    with pytest.raises(CardDataError, match="sex"):
        parse_text_block(bytes(block))
    block = bytearray(_resident_block())
    block[32:36] = "汉族".encode("utf-16-le")
    with pytest.raises(CardDataError, match="nation"):
        parse_text_block(bytes(block))


def test_a_lone_surrogate_and_a_short_block_are_refused():
    block = bytearray(_resident_block())
    block[0:2] = b"\x3d\xd8"  # a high surrogate followed by a plain character
    with pytest.raises(CardDataError, match="name"):
        parse_text_block(bytes(block))
    with pytest.raises(CardDataError, match="255 bytes"):
        parse_text_block(_resident_block()[:255])


class _Decoder:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.seen: list[bytes] = []

    def decode(self, wlt: bytes) -> bytes:
        self.seen.append(wlt)
        if self.fail:
            raise RuntimeError("licence expired")
        return b"BM" + wlt[:4]


def test_the_photo_is_kept_raw_and_decoded_only_by_a_plugged_in_decoder():
    wlt = bytes(range(256)) * 4
    assert parse_card(_resident_block(), wlt).photo is None
    read = parse_card(_resident_block(), wlt, _Decoder())
    assert read.wlt == wlt and read.photo == b"BM" + wlt[:4]
    assert "张秀英" not in repr(read) and "1024 bytes" in repr(read)


def test_a_failing_photo_decoder_does_not_break_the_read():
    read = parse_card(_resident_block(), bytes(1024), _Decoder(fail=True))
    assert read.photo is None and read.identity.name == "张秀英"


def test_encoding_refuses_a_field_that_does_not_fit():
    card = dataclasses.replace(demo_cards()["liu_yan"], name="很" * 16)
    with pytest.raises(ValueError, match="name"):
        encode_text_block(card)


# --- properties -----------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(st.binary(min_size=256, max_size=256))
def test_random_blocks_give_an_identity_or_a_kiosk_error(block):
    try:
        ident = parse_text_block(block)
    except KioskError as e:
        assert isinstance(e, CardDataError)
    else:
        assert isinstance(ident, Identity)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(demo_cards())), st.integers(0, 255), st.integers(0, 255))
def test_mutated_demo_blocks_give_an_identity_or_a_kiosk_error(key, where, value):
    block = bytearray(encode_text_block(demo_cards()[key]))
    block[where] = value
    try:
        parse_text_block(bytes(block))
    except KioskError as e:
        assert isinstance(e, CardDataError)


_name_chars = st.characters(
    categories=("Lo",), min_codepoint=0x3400, max_codepoint=0x2A6DF, exclude_characters="\x00 "
)


@settings(max_examples=200, deadline=None)
@given(st.text(_name_chars, min_size=1, max_size=7), st.integers(1, 999))
def test_any_cjk_name_round_trips(name, seq):
    body = f"370921198801{(seq % 28) + 1:02d}{seq % 1000:03d}"
    card = Identity(
        card_type=CardType.RESIDENT, name=name, id_number=body + id_check_digit(body),
        sex=Sex.MALE, birth_date=dt.date(1988, 1, (seq % 28) + 1), nation="01",
        valid_from=dt.date(2020, 1, 1), valid_to=dt.date(2040, 1, 1),
    )
    assert parse_text_block(encode_text_block(card)) == card
