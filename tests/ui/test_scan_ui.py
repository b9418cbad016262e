"""The QR code scanner through the real Kivy window (offscreen), driven by real touch events.

Each tour runs ``kiosk demo --headless --tour NAME`` in a subprocess: the scanner emulator
sends codes down its pty to the real driver, the simulated platform issues the 电子社保卡 codes
and pays with the demo payment codes. The tests check each screen's visible text, what the
journey did, what the backend and the journal hold, and that no code is shown or kept.
"""

from __future__ import annotations

import pytest

from kiosk.sim.backend import paycode
from kiosk.sim.demo_data import BY_KEY
from tests.support import run_tour, step

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def scan(tmp_path_factory):
    return run_tour(tmp_path_factory.mktemp("scan"), "scan_identify")


@pytest.fixture(scope="module")
def pay(tmp_path_factory):
    return run_tour(tmp_path_factory.mktemp("paycode"), "pay_by_code")


def passed(tour, screens):
    assert tour["proc"].returncode == 0, tour["proc"].stdout[-3000:] + tour["proc"].stderr[-3000:]
    assert tour["result"]["ok"], tour["result"]["failure"]
    assert [(s["name"], s["screen"]) for s in tour["result"]["steps"]] == screens


def test_scan_identify_end_to_end(scan):
    passed(scan, [("identify-card-only", "identify"), ("identify", "identify"), ("scan", "scan_identify"),
                  ("scan-expired", "scan_identify"), ("simulator-scanner", "scan_identify"), ("query", "query")])
    facts = scan["result"]["facts"]
    assert facts["scan_offered"] is True and facts["identified_by"] == "scan" and facts["identity_is_resident"]
    assert facts["code_on_screen"] is False and facts["session_holds_personal_data"] is False
    assert "扫码核验（电子社保卡 / 电子身份证）" in step(scan, "identify")["texts"]
    query = " ".join(step(scan, "query")["texts"])
    person = BY_KEY["zhang_xiuying"]
    assert "张**" in query and person.name not in query and person.id_number not in query


def test_the_panel_shows_a_residents_code_to_the_scanner(scan):
    texts = step(scan, "simulator-scanner")["texts"]
    assert "出示电子社保卡" in texts and "出示此付款码" in texts and "拔出扫码器" in texts
    assert BY_KEY["zhang_xiuying"].name in texts  # the demo residents are fictional: named


def test_a_code_shown_before_choosing_the_scan_never_identifies(scan):
    assert scan["result"]["facts"]["early_code"] == {"state": "identify", "screen": "identify", "identified": False}


def test_an_expired_code_says_refresh_it_in_the_app(scan):
    facts = scan["result"]["facts"]
    assert facts["expired_message"].startswith("二维码已过期") and "刷新二维码" in facts["expired_message"]
    texts = step(scan, "scan-expired")["texts"]
    assert "改用证件核验" in texts and "Use a card instead" in texts
    assert "The code has expired. Refresh it in your electronic social security card or ID app, then show it again" in texts


def test_a_certificate_says_it_needs_the_card_itself(scan):
    assert scan["result"]["facts"]["certificate_scan_offered"] is False
    texts = step(scan, "identify-card-only")["texts"]
    assert "此事项须使用实体证件，不支持扫码核验" in texts
    assert "扫码核验（电子社保卡 / 电子身份证）" not in texts  # not offered (hidden, not just disabled)


def test_pay_by_code_end_to_end(pay):
    passed(pay, [("qr", "payment_qr"), ("paycode", "payment_code"), ("paycode-refused", "payment_code"),
                 ("paycode-confirming", "payment_code"), ("result", "result"), ("home-after", "home")])
    facts = pay["result"]["facts"]
    assert "出示付款码" in step(pay, "qr")["texts"] and "取消缴费" in step(pay, "qr")["texts"]
    assert facts["refused_message"].startswith("付款失败：余额不足")
    assert "请在手机上确认付款（如需输入支付密码，请输入）" in step(pay, "paycode-confirming")["texts"]
    assert facts["outcome_ok"] is True and facts["outcome_title"] == "缴费成功"
    assert facts["receipts"] == 1 and facts["order_no"] in facts["receipt_text"]
    assert (facts["order_status"], facts["code_status"], facts["journal"]) == ("paid", "paid", ["completed"])


def test_no_payment_code_is_shown_printed_or_journaled(pay):
    facts = pay["result"]["facts"]
    codes = list(paycode.DEMO_CODES)
    assert facts["codes_in_journal"] is False
    assert not any(code in facts["receipt_text"] for code in codes)
    for s in pay["result"]["steps"]:
        assert not any(code in t for t in s["texts"] for code in codes), s["name"]


@pytest.fixture(scope="module")
def pin(tmp_path_factory):
    return run_tour(tmp_path_factory.mktemp("pin"), "card_pin_change")


def test_card_pin_change_end_to_end(pin):
    passed(pin, [("pin-old", "card_pin"), ("pin-wrong", "card_pin"), ("pin-new", "card_pin"), ("pin-weak", "card_pin"),
                 ("pin-again", "card_pin"), ("result", "result"), ("result-blocked", "result")])
    facts = pin["result"]["facts"]
    assert facts["outcome_ok"] is True and facts["outcome_title"] == "密码修改成功"
    assert facts["card_pin"] == {"matches_new": True, "changes": 1, "tries_left": 3}  # kept by the card
    assert facts["journal"] == ["completed"]
    assert facts["session_holds_personal_data"] is False


def test_the_card_says_how_many_tries_are_left_and_a_blocked_pin_goes_to_a_counter(pin):
    facts = pin["result"]["facts"]
    assert facts["wrong_message"].startswith("原密码错误，还可以再试2次")
    assert facts["blocked"]["ok"] is False and facts["blocked"]["title"] == "密码已锁定"
    assert "社保服务窗口" in facts["blocked"]["message"] and "本终端不能解锁密码" in facts["blocked"]["message"]


def test_weak_and_mismatched_new_pins_are_refused_before_the_card(pin):
    facts = pin["result"]["facts"]
    assert "相同的数字" in facts["weak_message"] and "出生日期" in facts["birth_message"]
    assert facts["mismatch_message"].startswith("两次输入的新密码不一致")


def test_the_keypad_is_shuffled_each_time_and_no_pin_is_shown_or_logged(pin):
    layouts = pin["result"]["facts"]["layouts"]
    assert all(sorted(k for k in lay if k.isdigit()) == list("0123456789") for lay in layouts)
    assert len({tuple(lay) for lay in layouts}) == len(layouts)  # a new order every time it appeared
    for s in pin["result"]["steps"]:
        assert not any(p in t for t in s["texts"] for p in ("123456", "582039", "999999")), s["name"]
    assert "●" in " ".join(step(pin, "pin-again")["texts"]) or "○" in " ".join(step(pin, "pin-again")["texts"])
    out = pin["proc"].stdout + pin["proc"].stderr
    assert "582039" not in out and "999999" not in out


def test_pin_change_needs_the_card_itself(pin):
    texts = pin["result"]["facts"]["identify_texts"]
    assert "此事项须使用实体证件，不支持扫码核验" in texts and "或将社会保障卡插入读卡口" in texts
