"""个人参保缴费证明 for a scheme and months picked on the record screen, through the real window.

``kiosk demo --headless --tour certificate_range`` runs in a subprocess (one Kivy window per
process): the resident taps 职工医保, opens the first-month picker, taps a year and 7月, and
prints. The test checks what the screen showed at each step and that the paper that came out
covers exactly that: the same months, in the same words, with the same sums.
"""

from __future__ import annotations

import re

import pytest

from kiosk.sim.demo_data import BY_KEY
from tests.support import run_tour, step

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def tour(tmp_path_factory):
    return run_tour(tmp_path_factory.mktemp("range"), "certificate_range")


def text_of(tour, name) -> str:
    return " ".join(step(tour, name)["texts"])


def test_the_tour_passes_every_step(tour):
    assert tour["proc"].returncode == 0, tour["proc"].stdout[-3000:] + tour["proc"].stderr[-3000:]
    assert tour["result"]["ok"], tour["result"]["failure"]
    assert [s["name"] for s in tour["result"]["steps"]] == [
        "record", "record-scheme", "picker", "record-range", "result"]


def test_the_scheme_and_the_months_are_picked_from_buttons_never_typed(tour):
    facts = tour["result"]["facts"]
    assert facts["first_scheme"] == "pension_employee" and facts["scheme"] == "medical_employee"
    year = int(facts["first_range"][1][:4]) - 1
    assert facts["range"] == [f"{year}-07", facts["first_range"][1]]
    first = text_of(tour, "record")
    assert "【已选】职工养老" in first and "请选择险种和起止年月" in first
    assert "【已选】职工医保" in text_of(tour, "record-scheme")
    picker = step(tour, "picker")["texts"]
    assert "请选择起始年月" in picker and f"{year}年" in picker
    assert all(f"{m}月" in picker or f"【已选】{m}月" in picker for m in range(1, 13))
    shown = text_of(tour, "record-range")
    assert f"起：{year}年07月" in shown and "个人缴费合计" in shown and "应缴未缴" in shown


def test_the_paper_covers_exactly_what_the_screen_showed(tour):
    facts = tour["result"]["facts"]
    assert facts["outcome_ok"] is True
    lines = facts["receipt_lines"]
    printed_rows = [line.split() for line in lines if re.match(r"^\d{4}-\d\d\s+￥", line)]
    assert printed_rows == facts["shown_rows"]
    page = " ".join(lines)
    for label, value in facts["shown_facts"]:
        assert f"{label}：" in page and value in page.replace(" ", ""), label
    first_page = text_of(tour, "record-range")
    for row in facts["shown_rows"][:5]:  # the first page of the preview shows the same rows
        assert all(cell in first_page for cell in row)
    assert facts["receipt_images"] == 1  # the seal
    person = BY_KEY["wang_jianguo"]
    assert person.id_number in page and person.name in page  # the certificate names its holder
    for s in tour["result"]["steps"]:  # while no screen ever does
        assert person.id_number not in " ".join(s["texts"]) and person.name not in " ".join(s["texts"]), s["name"]
