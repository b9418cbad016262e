"""24-hour 自助申办 through the real window: the ``application`` and ``application_progress`` tours
(``kiosk demo --headless``), each in its own process against a fresh simulated platform.

Real touches fill the form (a region level by level, picks, the keypad), real camera frames are
captured from the emulated 高拍仪's MJPEG stream, a signature is drawn with touch moves; the
tests check what each screen showed, the 受理回执, what the platform received, and that nothing
personal stayed on screen or on the terminal."""

from __future__ import annotations

import pytest

from kiosk.sim.demo_data import BY_KEY
from tests.support import run_tour

pytestmark = [pytest.mark.ui, pytest.mark.timeout(600)]


def passing(folder, name: str) -> dict:
    tour = run_tour(folder, name, timeout=500)
    result, proc = tour["result"], tour["proc"]
    assert proc.returncode == 0 and result.get("ok"), (result.get("failure"), proc.stderr[-3000:])
    return tour


def shown(tour) -> dict[str, str]:
    return {s["name"]: " ".join(s["texts"]) for s in tour["result"]["steps"]}


def test_an_application_with_a_scanned_material_and_a_signature(tmp_path):
    person = BY_KEY["zhu_dehua"]
    tour = passing(tmp_path, "application")
    screens, facts = shown(tour), tour["result"]["facts"]
    number = facts["application_no"]
    # the form: filled from the card and shown masked; a wrong number refused where it was keyed
    assert "朱**" in screens["form"] and "来自身份证" in screens["form"] and "1944年" in screens["form"]
    assert "应在1到20之间" in facts["household_size_refused"] and "请重新输入" in screens["form-number-refused"]
    assert "山东省泰安市宁阳县鹤山镇北街村" in screens["form-filled"] and "138****1213" in screens["form-filled"]
    assert facts["form_complete"] is True
    assert facts["pages_taken"] == [["id_card", 1], ["id_card", 2], ["bank_card", 1]]
    assert "已选用居民户口簿电子证照" in screens["materials-done"]
    assert "我已阅读并承诺" in screens["signed"]
    # the result shows the 办件编号; the 受理回执 has it, with the QR to follow the progress
    assert facts["outcome"]["ok"] and facts["outcome"]["title"] == "申请已受理"
    assert number.startswith("370921") and number in screens["result"]
    receipt = "".join(facts["receipt_text"].split())
    assert "受理回执" in receipt and f"办件编号：{number}" in receipt and "邮寄到身份证地址" in receipt
    assert facts["receipt_qr"][0].split("?")[0].endswith("/v1/applications/track")
    assert (tour["out"] / facts["receipt_png"]).stat().st_size > 5000
    # what the platform received: the form, two scanned ID-card sides, the licence, the bank card, the signature
    (got,) = facts["received"]
    materials = got["application"]["materials"]
    assert [(m["key"], m["source"], len(m["pages"])) for m in materials] == [
        ("id_card", "scan", 2), ("hukou", "licence", 0), ("bank_card", "scan", 1)]
    assert got["application"]["fields"]["bank"]["text"] == "中国农业银行"
    assert {"id_card-1.jpg", "id_card-2.jpg", "bank_card-1.jpg", "signature.png", "signature.json"} == set(got["files"])
    assert all(f["size"] <= 300 * 1024 for n, f in got["files"].items() if n.endswith(".jpg"))
    assert facts["chunk_writes"] >= len(got["files"])
    # nothing personal left: not on any screen, not in the session, not in the vault
    for text in screens.values():
        for secret in (person.name, person.id_number, person.phone, "北街1号"):
            assert secret not in text
    assert facts["session_holds_personal_data"] is False and facts["vault_after"] == []
    assert facts["layout_loops"] == 0


def test_progress_by_card_from_acceptance_to_posting_and_a_correction_with_its_reason(tmp_path):
    tour = passing(tmp_path, "application_progress")
    screens, facts = shown(tour), tour["result"]["facts"]
    progress = facts["progress"]
    number = facts["application_no"]
    (accepted,) = progress["progress-accepted"]
    assert accepted["number"] == number and accepted["status"] == "受理" and accepted["steps"] == ["受理"]
    (posted,) = progress["progress-posted"]
    assert posted["steps"] == ["受理", "审核", "办结", "已寄出"] and posted["tracking_no"]
    assert f"快递单号：{posted['tracking_no']}" in screens["progress-posted"]
    correction, window_posted = progress["progress-window"]
    assert correction["status"] == "补正" and correction["corrections"] == ["居民身份证第2页模糊无法辨认，请重新提交清晰的材料"]
    assert "需要补正：居民身份证第2页模糊无法辨认" in screens["progress-window"]
    assert window_posted["status"] == "已寄出"
    assert BY_KEY["liu_yan"].name not in screens["progress-window"]
