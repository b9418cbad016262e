"""The social-security card's APDU layer: builders, TLV, BCD, GBK, status words, 61xx/6Cxx.

Fakes stand only for the card at the far end of ``transmit``; the virtual card from
``kiosk.sim.sscard_card`` is the model of a real one.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.errors import CardError, KioskError, ProtocolError
from kiosk.hardware import sscard_apdu as sa
from kiosk.identity import CardType, Sex, SocialSecurityCard
from kiosk.sim.demo_data import BY_KEY, RESIDENTS
from kiosk.sim.sscard_card import card_for, card_keys


def card_transmit(card):
    """A transmit straight into a virtual card, recording every command."""
    sent: list[list[int]] = []

    def transmit(apdu: list[int]) -> tuple[list[int], int, int]:
        sent.append(list(apdu))
        resp = card.handle(bytes(apdu))
        return list(resp[:-2]), resp[-2], resp[-1]

    transmit.sent = sent  # type: ignore[attr-defined]
    return transmit


def scripted(*answers: tuple[bytes, int]):
    """A transmit that answers from a script of (data, SW) and records the commands."""
    script = list(answers)
    sent: list[list[int]] = []

    def transmit(apdu: list[int]) -> tuple[list[int], int, int]:
        sent.append(list(apdu))
        data, sw = script.pop(0)
        return list(data), sw >> 8, sw & 0xFF

    transmit.sent = sent  # type: ignore[attr-defined]
    return transmit


# --- builders ------------------------------------------------------------------------------


def test_select_application_is_the_gbk_name_from_the_spec():
    assert bytes(sa.select_application()).hex(" ").upper() == (
        "00 A4 04 00 0F 73 78 31 2E 73 68 2E C9 E7 BB E1 B1 A3 D5 CF"
    )


def test_select_file_read_record_and_get_response_bytes():
    assert sa.select_file(sa.EF05) == [0x00, 0xA4, 0x02, 0x00, 0x02, 0xEF, 0x05]
    assert sa.select_file(sa.EF06)[-2:] == [0xEF, 0x06]
    assert sa.read_record(7) == [0x00, 0xB2, 0x07, 0x04, 0x00]
    assert sa.read_record(7, le=11, sfi=5) == [0x00, 0xB2, 0x07, (5 << 3) | 4, 11]
    assert sa.get_response(0x20) == [0x00, 0xC0, 0x00, 0x00, 0x20]


@pytest.mark.parametrize(
    ("apdu", "expected"),
    [
        ([0, 0xB2, 1, 4], [0, 0xB2, 1, 4, 9]),  # case 1: Le added
        ([0, 0xB2, 1, 4, 0], [0, 0xB2, 1, 4, 9]),  # case 2: Le replaced
        ([0, 0xA4, 2, 0, 2, 0xEF, 5], [0, 0xA4, 2, 0, 2, 0xEF, 5, 9]),  # case 3: Le added
        ([0, 0xA4, 2, 0, 2, 0xEF, 5, 0], [0, 0xA4, 2, 0, 2, 0xEF, 5, 9]),  # case 4: replaced
    ],
)
def test_with_le_handles_all_four_apdu_cases(apdu, expected):
    assert sa.with_le(apdu, 9) == expected


# --- TLV, BCD, text --------------------------------------------------------------------------


def test_tlv_records_and_trailing_padding():
    data = bytes([0x07, 0x03]) + b"ABC" + bytes([0x05, 0x01, 0x20]) + b"\x00\x00\xff"
    assert sa.parse_tlv(data) == {0x07: b"ABC", 0x05: b"\x20"}


@pytest.mark.parametrize("data", [b"\x07", b"\x07\x05ABC", b"\x07\x01A\x08"])
def test_truncated_tlv_is_a_protocol_error(data):
    with pytest.raises(ProtocolError):
        sa.parse_tlv(data)


def test_bcd_date_and_its_edge_cases():
    assert sa.bcd_date(bytes.fromhex("20150630")) == dt.date(2015, 6, 30)
    assert sa.bcd_date(b"\xff\xff\xff\xff") is None
    assert sa.bcd_date(b"\x00\x00\x00\x00") is None
    assert sa.encode_bcd_date(dt.date(2026, 1, 9)) == bytes.fromhex("20260109")
    with pytest.raises(sa.CardDataError):
        sa.bcd_date(bytes.fromhex("20151330"))  # month 13
    with pytest.raises(sa.CardDataError):
        sa.bcd_date(bytes.fromhex("2015A630"))  # not decimal
    with pytest.raises(sa.CardDataError):
        sa.bcd_date(bytes.fromhex("2015FF"))  # too short once the padding is gone


def test_bcd_digits_stop_at_ff_padding():
    assert sa.bcd_digits(bytes.fromhex("3709FF")) == "3709"
    assert sa.bcd_digits(bytes.fromhex("370921")) == "370921"


@pytest.mark.parametrize(
    "name", ["刘䶮", "阿依古丽·买买提", "𠮷祥", "欧阳娜"]
)  # Ext A, middle dot, Ext B, compound surname
def test_names_keep_rare_characters_and_lose_padding(name):
    raw = name.encode("gb18030")
    for pad in (b"\x00" * 6, b"\xff" * 4, b"   ", b""):
        assert sa.gbk_text(raw + pad) == name


def test_plain_gbk_names_decode_too():
    assert sa.gbk_text("张秀英".encode("gbk").ljust(30, b"\x00")) == "张秀英"


def test_broken_gbk_is_a_card_data_error():
    with pytest.raises(sa.CardDataError):
        sa.gbk_text(b"\xc1")  # a lead byte with no trail


def test_sex_and_nation_fields():
    assert sa.sex_field(b"1") is Sex.MALE
    assert sa.sex_field(b"\x02") is Sex.FEMALE
    assert sa.sex_field(b"x") is Sex.UNKNOWN
    assert sa.sex_field(b"") is Sex.UNKNOWN
    assert sa.nation_field(b"\x01") == "01"
    assert sa.nation_field(b"\x56") == "56"  # BCD, not 86
    assert sa.nation_field(b"\x97") == "97"
    assert sa.nation_field(b"\x0a") == "10"  # not BCD: read as a number


# --- status words ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sw", "cls"),
    [
        (0x6A82, sa.FileNotFoundOnCardError),
        (0x6A83, sa.RecordNotFoundError),
        (0x6982, sa.SecurityStatusError),
        (0x6700, sa.WrongLengthError),
        (0x6983, sa.CardBlockedError),
        (0x6985, sa.ConditionsNotSatisfiedError),
        (0x6A86, sa.WrongParametersError),
        (0x6D00, sa.UnsupportedCommandError),
        (0x6E00, sa.UnsupportedCommandError),
        (0x6F00, sa.CardMemoryError),
        (0x6581, sa.CardMemoryError),
        (0x6512, sa.CardMemoryError),  # falls back to the SW1 family
        (0x6A99, sa.CardStatusError),  # unknown: the base class
    ],
)
def test_status_words_map_to_card_errors(sw, cls):
    err = sa.sw_error(sw >> 8, sw & 0xFF)
    assert type(err) is cls
    assert isinstance(err, CardError)
    assert err.sw == sw
    assert f"{sw:04X}" in str(err)
    assert err.code == f"SW{sw:04X}"


def test_not_a_social_security_card_tells_the_resident_so():
    err = sa.sw_error(0x6A, 0x82)
    assert "社会保障卡" in err.message_zh
    assert err.retryable is False


# --- the 61xx / 6Cxx dance ---------------------------------------------------------------------


def test_61xx_is_followed_by_get_response_and_data_is_joined():
    t = scripted((b"", 0x6105), (b"ABC", 0x6102), (b"DE", 0x9000))
    assert sa.exchange(t, sa.read_record(1)) == b"ABCDE"
    assert t.sent[1] == sa.get_response(5)
    assert t.sent[2] == sa.get_response(2)


def test_6cxx_resends_the_same_command_with_the_corrected_le():
    t = scripted((b"", 0x6C0B), (b"\x07\x09M37092101", 0x9000))
    assert sa.exchange(t, sa.read_record(7)) == b"\x07\x09M37092101"
    assert t.sent == [[0, 0xB2, 7, 4, 0], [0, 0xB2, 7, 4, 0x0B]]


def test_6cxx_on_get_response_asks_again_for_what_remains():
    t = scripted((b"", 0x6100), (b"", 0x6C03), (b"XYZ", 0x9000))
    assert sa.exchange(t, sa.select_application()) == b"XYZ"
    assert t.sent[1] == sa.get_response(0) and t.sent[2] == sa.get_response(3)


def test_an_error_after_get_response_raises_its_status():
    t = scripted((b"", 0x6104), (b"", 0x6A83))
    with pytest.raises(sa.RecordNotFoundError):
        sa.exchange(t, sa.read_record(3))


def test_a_card_that_never_stops_asking_is_cut_off():
    sent = []

    def endless(apdu):
        sent.append(apdu)
        return [], 0x61, 0x00

    with pytest.raises(ProtocolError):
        sa.exchange(endless, sa.read_record(1))
    assert len(sent) == sa.MAX_ROUNDS


def test_a_card_that_sends_too_much_is_cut_off():
    with pytest.raises(ProtocolError):
        sa.exchange(lambda apdu: ([0x41] * 255, 0x61, 0x00), sa.read_record(1))


# --- the whole read against the virtual card ---------------------------------------------------


@pytest.mark.parametrize("resident", RESIDENTS, ids=lambda r: r.key)
def test_every_demo_card_reads_back_as_its_resident(resident):
    t = card_transmit(card_for(resident.key))
    card = sa.read_card(t)
    assert isinstance(card, SocialSecurityCard)
    assert card.card_number == resident.sscard_number
    ident = card.identity
    assert ident.card_type is CardType.SOCIAL_SECURITY
    assert (ident.name, ident.id_number) == (resident.name, resident.id_number)
    assert ident.sex.value == resident.sex and ident.nation == resident.nation
    assert ident.birth_date == resident.birth_date
    assert ident.extra["birthplace"] == resident.area
    assert card.issue_date is not None and card.expiry_date is not None
    assert card.expiry_date > card.issue_date
    assert len(card.card_id) == 16 and card.version == "3.00"
    commands = {(c[1], c[2]) for c in t.sent}
    assert (0xC0, 0x00) in commands  # GET RESPONSE ran (61xx from the FCI and T=0 records)
    assert any(c[1] == 0xB2 and c[4] != 0 for c in t.sent)  # 6Cxx made it resend with Le


def test_the_repr_of_a_read_card_leaks_nothing():
    r = BY_KEY["wang_jianguo"]
    card = sa.read_card(card_transmit(card_for(r.key)))
    text = repr(card) + str(card)
    assert r.name not in text and r.id_number not in text and r.sscard_number not in text


def test_error_card_fails_on_ef06_with_file_not_found():
    with pytest.raises(sa.FileNotFoundOnCardError) as info:
        sa.read_card(card_transmit(card_for("error_card")))
    assert info.value.sw == 0x6A82


def test_pulled_card_leaves_after_the_last_ef05_record():
    card = card_for("pulled_card")
    t = card_transmit(card)
    sa.exchange(t, sa.select_application())
    sa.read_records(t, sa.EF05, sa.EF05_RECORDS)
    assert card.pulled


def test_an_optional_record_the_card_lacks_is_skipped():
    card = card_for("zhang_xiuying")
    del card.records[sa.EF06][sa.TAG_BIRTHPLACE]
    read = sa.read_card(card_transmit(card))
    assert "birthplace" not in read.identity.extra
    assert read.identity.name == "张秀英"


def test_a_required_record_the_card_lacks_is_an_error():
    card = card_for("zhang_xiuying")
    del card.records[sa.EF05][sa.TAG_CARD_NUMBER]
    with pytest.raises(sa.RecordNotFoundError):
        sa.read_card(card_transmit(card))


def test_a_bad_id_check_digit_is_refused():
    card = card_for("zhang_xiuying")
    good = card.records[sa.EF06][sa.TAG_ID_NUMBER]
    last = good[-1:]
    bad = good[:-1] + (b"0" if last != b"0" else b"1")
    card.records[sa.EF06][sa.TAG_ID_NUMBER] = bad
    with pytest.raises(sa.CardDataError):
        sa.read_card(card_transmit(card))


def test_the_virtual_card_refuses_what_a_real_one_would():
    card = card_for("zhang_xiuying")
    assert card.handle(bytes(sa.read_record(1)))[-2:] == b"\x69\x86"  # no EF selected
    assert card.handle(bytes(sa.select_file(sa.EF05)))[-2:] == b"\x6a\x82"  # app not selected
    assert card.handle(b"\x80\xb2\x01\x04\x00")[-2:] == b"\x6e\x00"
    assert card.handle(b"\x00\x84\x00\x00")[-2:] == b"\x6d\x00"  # GET CHALLENGE: not on this card
    assert card.handle(b"\x00\x20\x00\x00")[-2:] == b"\x67\x00"  # VERIFY without a PIN
    assert card.handle(bytes(sa.get_response(4)))[-2:] == b"\x69\x85"  # nothing pending
    assert set(card_keys()) >= {"error_card", "pulled_card", "liu_yan"}


# --- random and mutated answers: only kiosk errors, never a crash or a hang --------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_answers_give_a_card_or_a_kiosk_error(data):
    calls = 0

    def transmit(apdu):
        nonlocal calls
        calls += 1
        body = data.draw(st.binary(max_size=40), label="data")
        sw1 = data.draw(st.sampled_from([0x90, 0x61, 0x6C, 0x6A, 0x69, 0x67, 0x62]), label="sw1")
        sw2 = data.draw(st.integers(0, 255), label="sw2")
        return list(body), sw1, sw2

    try:
        result = sa.read_card(transmit)
    except KioskError:
        pass
    else:
        assert isinstance(result, SocialSecurityCard)
    assert calls <= 16 * sa.MAX_ROUNDS  # bounded: 16 commands, each at most MAX_ROUNDS rounds


@settings(max_examples=300, deadline=None)
@given(
    key=st.sampled_from([r.key for r in RESIDENTS]),
    victim=st.integers(0, 40),
    how=st.sampled_from(["flip", "truncate", "sw", "drop_sw2", "extend"]),
    where=st.integers(0, 60),
    value=st.integers(0, 255),
)
def test_mutated_card_answers_give_a_card_or_a_kiosk_error(key, victim, how, where, value):
    card = card_for(key)
    count = 0

    def transmit(apdu):
        nonlocal count
        resp = bytearray(card.handle(bytes(apdu)))
        if count == victim:
            if how == "flip" and resp:
                resp[where % len(resp)] ^= value or 1
            elif how == "truncate":
                resp = resp[: where % (len(resp) + 1)]
            elif how == "sw":
                resp[-2] = value
            elif how == "drop_sw2":
                resp = resp[:-1]
            elif how == "extend":
                resp[-2:-2] = bytes([value]) * (where % 8)
        count += 1
        if len(resp) < 2:
            raise ProtocolError("answer without a status word")  # what the transports raise
        return list(resp[:-2]), resp[-2], resp[-1]

    try:
        result = sa.read_card(transmit)
    except KioskError:
        return
    assert isinstance(result, SocialSecurityCard)
    assert count < 200
