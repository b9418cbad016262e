"""The vertical slice through the real Kivy window (offscreen), driven by real touch events.

``kiosk demo --headless`` runs in a subprocess (one Kivy window per process): it starts the
reference backend and simulated devices, taps through 个人参保缴费证明查询打印, and records
each screen's visible text and a screenshot. The test then checks every step, the receipt
image, the glyph coverage of every string shown, and that the rating reached the backend.
"""

from __future__ import annotations

import pytest
from PIL import Image, ImageStat

from kiosk.fonts import cjk_font_path
from kiosk.sim.demo_data import BY_KEY
from tests.support import TOUR_WINDOW, run_tour, step

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def tour(tmp_path_factory):
    folder = tmp_path_factory.mktemp("slice")
    return run_tour(folder, "certificate_slice")


def test_the_tour_passes_every_screen_in_order(tour):
    assert tour["proc"].returncode == 0, tour["proc"].stdout[-3000:] + tour["proc"].stderr[-3000:]
    assert tour["result"]["ok"], tour["result"]["failure"]
    names = [(s["name"], s["screen"]) for s in tour["result"]["steps"]]
    assert names == [("home", "home"), ("guide", "guide"), ("identify", "identify"), ("simulator", "identify"),
                     ("record", "record"),
                     ("result", "result"), ("rating", "rating"), ("farewell", "farewell"), ("home-after", "home")]


def test_what_each_screen_shows(tour):
    person = BY_KEY["wang_jianguo"]
    assert "请选择要办理的事项" in step(tour, "home")["texts"]
    assert "开始办理" in step(tour, "guide")["texts"]
    assert any("居民身份证" in t for t in step(tour, "identify")["texts"])
    record = " ".join(step(tour, "record")["texts"])
    assert "370***********" + person.id_number[-4:] in record
    assert "企业职工基本养老保险" in record and "个人缴费" in record
    assert "打印完成" in step(tour, "result")["texts"] and "办理成功" in step(tour, "result")["texts"]
    assert not any(t.startswith("成功：") for t in step(tour, "result")["texts"])  # no doubled 成功
    rating = step(tour, "rating")["texts"]
    for label in ("非常满意", "满意", "基本满意", "不满意", "非常不满意"):
        assert label in rating
    assert not any(t.startswith("【已选】") for t in rating)  # nothing pre-selected
    assert "感谢您的评价" in step(tour, "farewell")["texts"]  # one tap on 满意 sent it


def test_no_full_id_number_or_name_is_ever_on_screen(tour):
    person = BY_KEY["wang_jianguo"]
    for s in tour["result"]["steps"]:
        text = " ".join(s["texts"])
        assert person.id_number not in text, s["name"]
        # the reviewers' panel lists the (fictional) demo residents by name; no screen of the
        # kiosk itself ever shows a name in full
        assert s["name"] == "simulator" or person.name not in text, s["name"]


def test_every_character_shown_has_a_glyph_in_the_font(tour):
    from fontTools.ttLib import TTFont

    cmap = TTFont(str(cjk_font_path())).getBestCmap()
    shown = {ch for s in tour["result"]["steps"] for t in s["texts"] for ch in t if not ch.isspace()}
    missing = sorted(ch for ch in shown if ord(ch) not in cmap)
    assert missing == []
    assert "请" in shown  # the check saw Chinese text


def test_screenshots_and_receipt_are_real_images(tour):
    for s in tour["result"]["steps"]:
        image = Image.open(tour["out"] / s["png"]).convert("L")
        assert image.size == TOUR_WINDOW
        assert ImageStat.Stat(image).stddev[0] > 10, f"{s['png']} looks blank"
    receipt = Image.open(tour["out"] / "receipt.png").convert("L")
    assert receipt.size[1] > 300
    assert ImageStat.Stat(receipt).stddev[0] > 10


def test_the_rating_arrived_at_the_backend(tour):
    from kiosk.sim.backend.server import ReferenceBackend

    facts = tour["result"]["facts"]
    assert facts["outcome_ok"] is True
    assert facts["outbox_depth_after"] == 0
    assert facts["session_holds_personal_data"] is False
    backend = ReferenceBackend(tour["data"] / "backend")
    try:
        ratings = [r["payload"] for r in backend.received("rating") if r["payload"]["transaction_no"] == facts["transaction_no"]]
    finally:
        backend.close()
    assert len(ratings) == 1 and ratings[0]["satisfaction"] == 4


def test_each_screen_instruction_was_spoken(tour):
    import wave

    spoken = tour["result"]["facts"]["spoken"]
    assert "请将居民身份证放在读卡区" in spoken  # the identify screen's instruction
    assert "请您对本次服务进行评价" in spoken  # the rating screen's
    with wave.open(tour["result"]["facts"]["voice_files"][-1]) as w:
        assert w.getnframes() > 0


def test_paper_out_at_print_is_retried_from_the_result_screen_and_prints_once(tmp_path):
    run = run_tour(tmp_path, "paper_out_retry")
    assert run["proc"].returncode == 0, run["proc"].stdout[-3000:] + run["proc"].stderr[-3000:]
    assert run["result"]["ok"], run["result"]["failure"]
    facts = run["result"]["facts"]
    assert facts["first_ok"] is False and facts["documents_before_refill"] == 0
    failed = " ".join(step(run, "result-paper-out")["texts"])
    assert "未完成" in failed and "缺纸" in failed and "重新打印" in failed
    retried = step(run, "result-retried")["texts"]
    assert "打印完成" in retried and facts["retry_still_offered"] is False
    assert "重新打印" not in retried  # the button is gone (opacity 0) once the print went through
    assert facts["documents"] == 1
