"""Card services, a guide-only item, the service map and 帮办代办 through the real window.

Each tour of ``kiosk.tours.assist`` runs in its own subprocess (one Kivy window per process)
with ``kiosk demo --headless --tour NAME``, against a fresh reference backend; the tests check
what each screen showed, what reached the backend, and that nothing personal was on screen.
"""

from __future__ import annotations

import pytest

from kiosk.sim.demo_data import BY_KEY
from tests.support import run_tour

pytestmark = pytest.mark.ui


def run_passing_tour(folder, name: str) -> dict:
    tour = run_tour(folder, name)
    result, proc = tour["result"], tour["proc"]
    assert proc.returncode == 0 and result.get("ok"), (result.get("failure"), proc.stderr[-3000:])
    return tour


def steps(tour) -> dict[str, str]:
    return {s["name"]: " ".join(s["texts"]) for s in tour["result"]["steps"]}


def received(tour, kind: str) -> list[dict]:
    from kiosk.sim.backend.server import ReferenceBackend

    backend = ReferenceBackend(tour["data"] / "backend")
    try:
        return [r["payload"] for r in backend.received(kind)]
    finally:
        backend.close()


def test_card_loss_by_touch(tmp_path):
    person = BY_KEY["feng_wei"]
    tour = run_passing_tour(tmp_path, "card_loss")
    shown = steps(tour)
    assert "状态：正常" in shown["card-phone"] and "请输入11位手机号码" in shown["card-phone"]
    assert "不一致" in shown["card-wrong-phone"] and "还可输入 2 次" in shown["card-wrong-phone"]
    assert "临时挂失成功" in shown["result"] and "正式挂失" in shown["result"]
    for text in shown.values():
        for secret in (person.id_number, person.name, person.phone, person.sscard_number):
            assert secret not in text
    facts = tour["result"]["facts"]
    assert facts["outcome_ok"] is True and facts["receipt_png"] == "receipt.png"
    assert facts["session_holds_personal_data"] is False and facts["outbox_depth_after"] == 0
    journal = [t for t in received(tour, "transaction") if t["transaction_no"] == facts["transaction_no"]]
    assert [t["status"] for t in journal] == ["completed"]


def test_card_status_by_touch_says_a_lost_card_plainly(tmp_path):
    person = BY_KEY["zhao_li"]
    tour = run_passing_tour(tmp_path, "card_status")
    shown = steps(tour)
    assert "状态：临时挂失" in shown["card-status"] and person.sscard_number[-4:] in shown["card-status"]
    assert "临时挂失状态" in shown["result"] and "补卡" in shown["result"]
    for text in shown.values():
        assert person.sscard_number not in text and person.id_number not in text and person.name not in text


def test_guide_only_item_shows_its_notice_and_cannot_start(tmp_path):
    tour = run_passing_tour(tmp_path, "guide_only")
    short, full = steps(tour)["guide"], steps(tour)["guide-full"]
    for fact in ("所需材料", "办理时限", "收费标准", "办理地点"):  # the notice in short, first
        assert fact in short
    for section in ("申请条件", "申请材料", "办理流程", "办理时限", "收费标准", "办理地点"):
        assert section in full
    assert "本终端不能重置密码" in full
    assert "此事项请到窗口办理。地点与联系方式见上方须知。" in short  # said, not a dead button
    assert tour["result"]["facts"]["start_button"] == {"zh": "请工作人员帮我办（帮办代办）", "enabled": True}


def test_service_map_filters_by_category(tmp_path):
    tour = run_passing_tour(tmp_path, "service_map")
    shown = steps(tour)
    facts = tour["result"]["facts"]
    assert facts["points_all"] == 2 and facts["points_in_category"] == 1
    assert "宁阳县政务服务中心" in shown["map-all"] and "葛石镇便民服务中心" in shown["map-all"]
    assert "【已选】缴费" in shown["map-category"] and "宁阳县政务服务中心" not in shown["map-category"]
    assert "0538-5811234" in shown["map-category"]


def test_help_request_by_touch_reaches_the_backend(tmp_path):
    tour = run_passing_tour(tmp_path, "help_request")
    shown = steps(tour)
    assert "社会保障卡密码重置" in shown["help-phone"]
    assert "请输入11位手机号码（以1开头）" in shown["help-bad-number"]
    assert "138****1299" in shown["result"] and "13853801299" not in shown["result"]
    got = received(tour, "help_request")
    assert len(got) == 1 and got[0]["phone"] == "13853801299" and got[0]["item_id"] == "sscard_password_reset"
