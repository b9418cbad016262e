"""The application form: filled from the ID card, picked from code tables, keyed on the keypad;
every value checked where it is entered, with what is wrong and what to do."""

from __future__ import annotations

import datetime as dt

import pytest

from kiosk.identity import CardType, Identity, Sex
from kiosk.services.application_form import DELIVERY, ApplicationForm, FormError
from kiosk.services.catalogue import load_catalogue
from kiosk.sim.demo_data import BY_KEY

TODAY = dt.date(2026, 6, 1)
POINTS = ("宁阳县政务服务中心", "葛石镇便民服务中心")


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


def identity(key: str) -> Identity:
    r = BY_KEY[key]
    return Identity(CardType.RESIDENT, r.name, r.id_number, Sex(r.sex), r.birth_date, r.nation, r.address)


def form(catalogue, item_id: str, who: str = "zhu_dehua") -> ApplicationForm:
    item = catalogue.by_id(item_id)
    return ApplicationForm(item.application, catalogue.codes, identity(who), today=TODAY, service_points=POINTS)


def test_the_id_card_fills_name_number_birth_and_address_and_the_screen_shows_them_masked(catalogue):
    f = form(catalogue, "longevity_allowance")
    person = BY_KEY["zhu_dehua"]
    assert f.values["name"] == person.name and f.values["id_number"] == person.id_number
    assert f.values["birth_date"] == "1944-09-09" and f.values["id_address"] == person.address
    shown = {line.key: line.shown_zh for line in f.lines()}
    assert shown["name"] == "朱**" and shown["id_number"].startswith("370") and "*" in shown["id_number"]
    assert shown["birth_date"] == "1944年（81周岁）"
    assert shown["id_address"] == "山东省泰安市宁阳县鹤山镇****"
    for text in shown.values():
        assert person.id_number not in text and person.name not in text and "北街1号" not in text
    assert all(line.from_card for line in f.lines() if line.kind == "identity")


def test_age_limits_say_who_may_apply(catalogue):
    assert form(catalogue, "longevity_allowance", "zhu_dehua").ineligible() is None
    zh, en = form(catalogue, "longevity_allowance", "li_guilan").ineligible()
    assert "年满80周岁" in zh and "78周岁" in zh and "80 or over" in en
    zh, _en = form(catalogue, "unemployment_registration", "zhu_dehua").ineligible()
    assert "59周岁以下" in zh


def test_picks_must_come_from_their_code_table(catalogue):
    f = form(catalogue, "longevity_allowance")
    f.set_pick("bank", "PSBC")
    assert f.shown("bank") == ("中国邮政储蓄银行", "Postal Savings Bank of China")
    with pytest.raises(FormError) as caught:
        f.set_pick("bank", "WESTERN_UNION")
    assert "只能从列表中选择" in caught.value.message_zh and f.values["bank"] == "PSBC"


def test_a_region_is_picked_down_to_the_depth_the_field_asks(catalogue):
    f = form(catalogue, "longevity_allowance")
    with pytest.raises(FormError) as caught:
        f.set_region("residence", "370921109")  # a township: the field wants the village
    assert "请继续选择到村（社区）一级" in caught.value.message_zh and "village" in caught.value.message_en
    assert not f.region_done("residence", "370921109")
    f.set_region("residence", "370921109001")
    assert f.shown("residence")[0] == "山东省泰安市宁阳县葛石镇东庄村"
    # a township with no villages in the table is as deep as one can go
    assert f.region_done("residence", "370911101")
    f.set_region("residence", "370911101")
    with pytest.raises(FormError):
        f.set_region("residence", "999999")


def test_phone_and_numbers_are_checked_with_what_to_do(catalogue):
    f = form(catalogue, "longevity_allowance")
    with pytest.raises(FormError) as caught:
        f.set_phone("phone", "1385380120")
    assert "应为11位数字，您输入了10位" in caught.value.message_zh and "keyed 10" in caught.value.message_en
    with pytest.raises(FormError) as caught:
        f.set_phone("phone", "12853801201")
    assert "不是有效的手机号码" in caught.value.message_zh
    f.set_phone("phone", "13853801213")
    assert f.shown("phone") == ("138****1213", "138****1213")
    with pytest.raises(FormError) as caught:
        f.set_number("household_size", "0")
    assert "应在1到20之间" in caught.value.message_zh
    f.set_number("household_size", "3")
    assert f.values["household_size"] == 3


def test_delivery_by_post_to_the_card_address_a_picked_address_or_pickup(catalogue):
    f = form(catalogue, "longevity_allowance")
    assert f.delivery_choices() == ("mail_card", "mail_region", "pickup")
    f.set_delivery("mail_card")
    assert f.shown(DELIVERY)[0] == "邮寄到身份证地址：山东省泰安市宁阳县鹤山镇****"
    with pytest.raises(FormError, match="house number"):
        f.set_delivery("mail_region", region="370921109001", house="0")
    with pytest.raises(FormError):
        f.set_delivery("mail_region", region="370921109", house="12")
    f.set_delivery("mail_region", region="370921109001", house="12")
    assert f.shown(DELIVERY)[0] == "邮寄到：山东省泰安市宁阳县葛石镇东庄村**号"
    assert f.submission()["delivery"]["address"] == "山东省泰安市宁阳县葛石镇东庄村12号"
    f.set_delivery("pickup", point="葛石镇便民服务中心")
    assert f.shown(DELIVERY)[0] == "到葛石镇便民服务中心领取"
    with pytest.raises(FormError):
        f.set_delivery("pickup", point="别处")


def test_the_form_is_complete_when_every_required_line_has_a_value(catalogue):
    f = form(catalogue, "longevity_allowance")
    assert f.missing() == ("residence", "living", "household_size", "bank", "phone", DELIVERY)
    f.set_region("residence", "370921108001")
    f.set_pick("living", "2")
    f.set_number("household_size", "2")
    f.set_pick("bank", "ABC")
    f.set_phone("phone", "13853801213")
    f.set_delivery("mail_card")
    assert f.complete
    sent = f.submission()
    assert sent["applicant"]["id_number"] == BY_KEY["zhu_dehua"].id_number
    assert sent["fields"]["bank"] == {"kind": "pick", "value": "ABC", "text": "中国农业银行"}
    assert sent["fields"]["residence"]["text"] == "山东省泰安市宁阳县鹤山镇北街村"
    assert sent["fields"]["phone"]["value"] == "13853801213"
    f.clear("bank")
    f.clear("name")  # a card's value cannot be cleared
    assert f.missing() == ("bank",) and "name" in f.values


def test_a_card_without_an_address_cannot_be_posted_to(catalogue):
    item = catalogue.by_id("job_seeker_registration")
    who = Identity(CardType.FOREIGN_PERMANENT, "JOHN SMITH", "USA123456789012", Sex.MALE, dt.date(1990, 1, 1))
    f = ApplicationForm(item.application, catalogue.codes, who, today=TODAY, service_points=POINTS)
    assert f.delivery_choices() == ("mail_region", "pickup")
    assert "id_address" not in f.values
    zh, en = f.ineligible()
    assert "没有“身份证住址”" in zh and "resident ID card" in en
