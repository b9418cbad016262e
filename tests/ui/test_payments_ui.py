"""缴费 through the real Kivy window (offscreen), driven by real touch events.

Each tour runs ``kiosk demo --headless --tour NAME`` in a subprocess (one window per
process): the water bill is typed on the keypad, the pension grade is picked from the list,
the QR code is "paid" through the reference backend's simulator endpoint, and the receipt
is printed on the emulated printer. The tests check each screen's visible text, the
screenshots, the receipt, the journal, and what the backend holds afterwards.
"""

from __future__ import annotations

import json

import pytest
from PIL import Image, ImageStat

from kiosk.fonts import cjk_font_path
from kiosk.sim.demo_data import BY_KEY
from tests.support import TOUR_WINDOW, run_tour, step

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def water(tmp_path_factory):
    return run_tour(tmp_path_factory.mktemp("water"), "water_bill")


@pytest.fixture(scope="module")
def pension(tmp_path_factory):
    return run_tour(tmp_path_factory.mktemp("pension"), "contribution_payment")


@pytest.fixture(scope="module")
def doubt(tmp_path_factory):
    return run_tour(tmp_path_factory.mktemp("doubt"), "payment_doubt")


def text_of(tour, name):
    return " ".join(step(tour, name)["texts"])


def backend_holds(tour, order_no, txn):
    """What the reference backend stored (its database outlives the demo process)."""
    from kiosk.sim.backend.server import ReferenceBackend

    backend = ReferenceBackend(tour["data"] / "backend")
    try:
        with backend.store.lock:
            order = backend.store.conn.execute(
                "SELECT status, amount_fen FROM orders WHERE order_no=?", (order_no,)
            ).fetchone()
        received = [r["payload"] for r in backend.received("transaction") if r["payload"]["transaction_no"] == txn]
        ratings = [r["payload"] for r in backend.received("rating") if r["payload"]["transaction_no"] == txn]
    finally:
        backend.close()
    return order, received, ratings


def assert_tour_passed(tour, screens):
    assert tour["proc"].returncode == 0, tour["proc"].stdout[-3000:] + tour["proc"].stderr[-3000:]
    assert tour["result"]["ok"], tour["result"]["failure"]
    assert [(s["name"], s["screen"]) for s in tour["result"]["steps"]] == screens


def test_water_bill_is_paid_end_to_end(water):
    assert_tour_passed(water, [("guide", "guide"), ("account", "payment_account"), ("confirm", "payment_confirm"),
                               ("qr", "payment_qr"), ("result", "result"), ("home-after", "home")])
    facts = water["result"]["facts"]
    account = facts["account_no"]
    assert facts["short_number_kept_on_keypad"] is True  # 确定 stays off below 8 digits
    assert facts["typed"] is True
    assert "请输入缴费户号（8至12位数字），然后点击“确定”" in step(water, "account")["texts"]
    confirm = text_of(water, "confirm")
    assert "******" + account[-4:] in confirm and "张**" in confirm
    assert "应缴金额：￥38.50" in confirm and "收款单位：宁阳县自来水有限公司" in confirm
    qr = step(water, "qr")["texts"]
    assert "支付金额：￥38.50" in qr and "收款单位：宁阳县自来水有限公司" in qr
    assert any(t.startswith("剩余支付时间：2分5") or t == "剩余支付时间：3分00秒" for t in qr)
    assert facts["qr_payload"].endswith(facts["order_no"])
    assert f"订单号：{facts['order_no']}" in qr  # what staff, or a reviewer's curl, look the payment up by
    assert "缴费成功" in step(water, "result")["texts"] and "办理成功" in step(water, "result")["texts"]
    assert f"参考号：{facts['transaction_no']}" in step(water, "result")["texts"]


def test_water_receipt_journal_and_backend_agree(water):
    facts = water["result"]["facts"]
    account = facts["account_no"]
    receipt = "".join(facts["receipt_text"].split())
    assert "缴费凭证" in receipt and "￥38.50" in receipt and facts["transaction_no"] in receipt
    assert "户号：******" + account[-4:] in receipt and account not in receipt and "户名：张**" in receipt
    assert facts["receipt_qr"] == [f"ZWFW-PAY:{facts['order_no']}:{facts['transaction_no']}:3850"]
    assert facts["journal"] == [{"transaction_no": facts["transaction_no"], "status": "completed", "amount_fen": 3850,
                                 "order_no": facts["order_no"], "masked_name": "张**", "masked_id": ""}]
    assert facts["order_status"] == "paid" and facts["outbox_depth_after"] == 0
    assert facts["session_holds_personal_data"] is False
    order, received, ratings = backend_holds(water, facts["order_no"], facts["transaction_no"])
    assert order == ("paid", 3850)
    assert [(p["status"], p["amount_fen"], p["masked_name"]) for p in received] == [("completed", 3850, "张**")]
    assert len(ratings) == 1 and ratings[0]["satisfaction"] == 4


def test_pension_contribution_is_paid_with_the_picked_grade(pension):
    assert_tour_passed(pension, [("guide", "guide"), ("confirm", "payment_confirm"),
                                 ("confirm-picked", "payment_confirm"), ("qr", "payment_qr"), ("result", "result"),
                                 ("home-after", "home")])
    person = BY_KEY["liu_yan"]
    facts = pension["result"]["facts"]
    grade = facts["grade"]
    confirm = step(pension, "confirm")["texts"]
    assert "370***********" + person.id_number[-4:] in confirm and "刘*" in confirm
    assert not any(t.startswith("【已选】") for t in confirm)  # nothing picked for the resident
    assert not any(t.startswith("应缴金额") for t in confirm)
    picked = step(pension, "confirm-picked")["texts"]
    amount = f"￥{grade['amount_fen'] // 100:,}.00"
    assert "【已选】" + grade["label_zh"] in picked and f"应缴金额：{amount}" in picked
    assert f"支付金额：{amount}" in step(pension, "qr")["texts"]
    assert "缴费成功" in step(pension, "result")["texts"]
    receipt = "".join(facts["receipt_text"].split())
    assert grade["label_zh"] in receipt and "刘*" in receipt and amount in receipt
    order, received, ratings = backend_holds(pension, facts["order_no"], facts["transaction_no"])
    assert order == ("paid", grade["amount_fen"])
    assert [(p["status"], p["masked_id"]) for p in received] == [("completed", "370***********" + person.id_number[-4:])]
    assert len(ratings) == 1 and ratings[0]["satisfaction"] == 5


def test_nothing_personal_is_shown_or_printed_in_full(water, pension):
    checks = [(water, BY_KEY["zhang_xiuying"]), (pension, BY_KEY["liu_yan"])]
    for tour, person in checks:
        shown = [(s["name"], " ".join(s["texts"])) for s in tour["result"]["steps"]]
        shown.append(("receipt", tour["result"]["facts"]["receipt_text"]))
        shown.append(("journal", json.dumps(tour["result"]["facts"]["journal"], ensure_ascii=False)))
        for name, text in shown:
            assert person.id_number not in text and person.name not in text and person.phone not in text, name
    account = water["result"]["facts"]["account_no"]
    for s in water["result"]["steps"]:
        # the number is only on the keypad line while it is typed; no recorded screen keeps it
        assert account not in " ".join(s["texts"]), s["name"]


def test_screens_and_receipts_are_real_images_with_glyphs(water, pension):
    from fontTools.ttLib import TTFont

    cmap = TTFont(str(cjk_font_path())).getBestCmap()
    for tour in (water, pension):
        for s in tour["result"]["steps"]:
            image = Image.open(tour["out"] / s["png"]).convert("L")
            assert image.size == TOUR_WINDOW
            assert ImageStat.Stat(image).stddev[0] > 10, f"{s['png']} looks blank"
        receipt = Image.open(tour["out"] / "receipt.png").convert("L")
        assert receipt.size[1] > 300 and ImageStat.Stat(receipt).stddev[0] > 10
        shown = {ch for s in tour["result"]["steps"] for t in s["texts"] for ch in t if not ch.isspace()}
        assert sorted(ch for ch in shown if ord(ch) not in cmap) == []


def qr_modules_on_screen(tour) -> tuple[list[list[bool]], list[list[bool]]]:
    """(what the screenshot shows, what the payload encodes), module by module."""
    import qrcode

    facts = tour["result"]["facts"]
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    qr.add_data(facts["qr_payload"])
    qr.make(fit=True)
    expected = qr.get_matrix()  # border included
    left, top, width, height = facts["qr_box_px"]
    image = Image.open(tour["out"] / step(tour, "qr")["png"]).convert("L")
    n = len(expected)
    seen = [
        [image.getpixel((int(left + (c + 0.5) * width / n), int(top + (r + 0.5) * height / n))) < 128 for c in range(n)]
        for r in range(n)
    ]
    return seen, expected


@pytest.mark.parametrize("which", ["water", "pension"])
def test_the_qr_on_screen_is_the_orders_payment_code(which, request):
    tour = request.getfixturevalue(which)
    seen, expected = qr_modules_on_screen(tour)
    assert len(expected) >= 25
    assert seen == expected  # every module, so a phone reads exactly the order's payment link


def test_the_pension_journey_is_readable_in_elder_mode(pension):
    facts = pension["result"]["facts"]
    for where in ("confirm_sizes", "qr_sizes"):
        sizes = facts[where]
        assert sizes["min_button_height_dp"] >= 60 and sizes["min_button_width_dp"] >= 60, where
        assert sizes["min_body_text_dp"] >= 18 and sizes["min_heading_text_dp"] >= 30, where
    assert facts["qr_side_dp"] >= 300  # the code is drawn large, not at its texture's size


def test_a_lost_answer_is_shown_honestly_and_cancel_still_closes_the_order(doubt):
    assert_tour_passed(doubt, [("qr-unknown", "payment_qr"), ("result", "result")])
    facts = doubt["result"]["facts"]
    shown = step(doubt, "qr-unknown")["texts"]
    assert "支付结果确认中，请勿重复付款。网络恢复后将自动核实。" in shown
    assert "取消缴费" in shown  # the resident can still give up, and it is honoured
    result = step(doubt, "result")["texts"]
    assert "已取消缴费" in result and "未完成" in result and f"参考号：{facts['transaction_no']}" in result
    assert facts["order_status"] == "closed" and facts["journal"] == ["cancelled"] and facts["printed"] == 0
    assert facts["rating_offered"] is True
