"""A query and a certificate through the real Kivy window (offscreen), driven by real touches.

``kiosk demo --headless --tour queries`` runs in a subprocess (one Kivy window per process):
缴费明细 paged and re-chosen by year, then 个人权益记录 printed. The test checks what each
screen showed, the files the certificate left for reviewers and what reached the backend.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageStat

from kiosk.fonts import cjk_font_path
from kiosk.sim.demo_data import BY_KEY
from tests.support import TOUR_WINDOW, run_tour, step
from tests.unit.test_certificate_pdf import pdf_text

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def tour(tmp_path_factory):
    folder = tmp_path_factory.mktemp("queries")
    return run_tour(folder, "queries")


def text_of(tour, name) -> str:
    return " ".join(step(tour, name)["texts"])


def test_the_tour_passes_every_screen_in_order(tour):
    assert tour["proc"].returncode == 0, tour["proc"].stdout[-3000:] + tour["proc"].stderr[-3000:]
    assert tour["result"]["ok"], tour["result"]["failure"]
    names = [(s["name"], s["screen"]) for s in tour["result"]["steps"]]
    assert names == [("query", "query"), ("query-page2", "query"), ("query-earlier-year", "query"),
                     ("query-result", "result"), ("certificate", "query"), ("certificate-result", "result")]


def test_the_query_is_paged_in_large_type_and_rechosen_by_year(tour):
    person = BY_KEY["wang_jianguo"]
    facts = tour["result"]["facts"]
    first = text_of(tour, "query")
    assert "社会保险缴费明细" in first and "370***********" + person.id_number[-4:] in first
    assert f"{facts['query_chosen']}年缴费明细" in first and "个人缴费合计" in first
    assert f"第 1 / {facts['query_pages']} 页" in first
    assert all(label in first for label in facts["query_choice_labels"][:3])  # the newest years as buttons
    assert f"第 2 / {facts['query_pages']} 页" in text_of(tour, "query-page2")
    assert facts["query_rechosen"] == facts["query_chosen"] - 1
    assert f"{facts['query_rechosen']}年缴费明细" in text_of(tour, "query-earlier-year")
    assert facts["query_outcome_ok"] is True and "查询完成" in text_of(tour, "query-result") and "办理成功" in text_of(tour, "query-result")


def test_the_certificate_is_shown_printed_once_and_kept_as_pdf(tour):
    person = BY_KEY["wu_haitao"]
    facts = tour["result"]["facts"]
    shown = text_of(tour, "certificate")
    assert "个人权益记录" in shown and "企业职工基本养老保险" in shown and "打印权益记录单" in shown
    assert "打印完成" in text_of(tour, "certificate-result")
    assert facts["certificate_outcome_ok"] is True and facts["receipts_printed"] == 1
    assert facts["certificate_code"] in facts["receipt_text"]
    pdf, png = (Path(p) for p in facts["certificate_artifacts"])
    assert pdf.parent == tour["data"].resolve() / "certificates"
    text = pdf_text(pdf)
    assert "个人权益记录单" in text and facts["certificate_code"] in text
    assert person.id_number in text  # the paper names its holder in full; the screens never do (below)
    preview = Image.open(png).convert("L")
    assert preview.size[1] > preview.size[0] and ImageStat.Stat(preview).stddev[0] > 20


def test_no_full_id_number_or_name_is_ever_on_screen(tour):
    for key in ("wang_jianguo", "wu_haitao"):
        person = BY_KEY[key]
        for s in tour["result"]["steps"]:
            text = " ".join(s["texts"])
            assert person.id_number not in text and person.name not in text, s["name"]


def test_every_character_shown_has_a_glyph_in_the_font(tour):
    from fontTools.ttLib import TTFont

    cmap = TTFont(str(cjk_font_path())).getBestCmap()
    shown = {ch for s in tour["result"]["steps"] for t in s["texts"] for ch in t if not ch.isspace()}
    assert sorted(ch for ch in shown if ord(ch) not in cmap) == []
    assert "缴" in shown


def test_screenshots_are_real_images(tour):
    for s in tour["result"]["steps"]:
        image = Image.open(tour["out"] / s["png"]).convert("L")
        assert image.size == TOUR_WINDOW
        assert ImageStat.Stat(image).stddev[0] > 10, f"{s['png']} looks blank"


def test_both_matters_were_journalled_and_the_session_wiped(tour):
    from kiosk.sim.backend.server import ReferenceBackend

    facts = tour["result"]["facts"]
    assert facts["session_holds_personal_data"] is False
    backend = ReferenceBackend(tour["data"] / "backend")
    try:
        done = {t["payload"]["transaction_no"]: t["payload"]["status"] for t in backend.received("transaction")}
        rated = {r["payload"]["transaction_no"] for r in backend.received("rating")}
    finally:
        backend.close()
    assert done.get(facts["query_transaction_no"]) == "completed"
    assert len([s for s in done.values() if s == "completed"]) >= 2
    assert facts["query_transaction_no"] in rated
