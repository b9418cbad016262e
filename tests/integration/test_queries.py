"""查询 flows against the reference backend over real HTTP, with the ID card read over a pty.

Each test checks the view the query screen will show: the right numbers from the backend,
plain sentences when nothing is on record, pages that fit, and no full ID number anywhere.
"""

from __future__ import annotations

import re

import pytest

from kiosk.errors import BackendUnavailableError
from kiosk.money import yuan
from kiosk.services.queries import QueryView, TableView
from kiosk.sim.demo_data import BY_KEY


def start(s, item_id: str, resident: str):
    item = s.kiosk.catalogue.by_id(item_id)
    s.wait_device("idcard")
    s.journey.choose(item.id)
    s.journey.proceed()
    s.identify_with_idcard(resident)
    assert s.journey.state == "item", s.refused
    return s.journey.flow


def shown(view: QueryView) -> str:
    """Everything the screen could show for this view, as one string."""
    parts = [view.title_zh, view.who, view.message_zh]
    for page in view.pages():
        for p in page:
            parts += [p.title_zh, p.note_zh, *(f"{r.label_zh} {r.value}" for r in p.rows), *p.header]
            parts += [" ".join(row) for row in p.body]
    return "\n".join(parts)


def all_rows(view: QueryView) -> list[tuple[str, ...]]:
    return [row for page in view.pages() for p in page for row in p.body]


def test_insurance_enrolment_shows_each_scheme_with_months_paid(scripted):
    person = BY_KEY["wang_jianguo"]
    flow = start(scripted, "insured_status_query", "wang_jianguo")
    view = flow.load()
    assert not view.empty and not view.can_print
    assert [s.title_zh for s in view.sections] == ["企业职工基本养老保险", "职工基本医疗保险"]
    rights = scripted.kiosk.backend.rights_record(person.id_number)["schemes"]
    rows = {r.label_zh: r.value for r in view.sections[0].rows}
    assert rows["参保状态"] == "参保缴费" and rows["参保单位"]
    assert rows["累计缴费"] == f"{rights[0]['months_paid']}个月"
    assert view.who == "王**    370***********" + person.id_number[-4:]
    assert person.id_number not in shown(view) and person.name not in shown(view)


def test_the_medical_item_shows_medical_insurance_only(scripted):
    flow = start(scripted, "medical_insured_query", "wang_jianguo")
    view = flow.load()
    assert [s.title_zh for s in view.sections] == ["职工基本医疗保险"]


@pytest.mark.parametrize(("item_id", "sentence"), [
    ("insured_status_query", "未查询到您的社会保险参保信息"),
    ("contribution_history_query", "未查询到您的缴费记录"),
    ("resident_pension_query", "未查询到您的城乡居民养老保险参保信息"),
    ("medical_account_query", "仅职工医保设有个人账户"),
])
def test_nothing_on_record_is_said_in_a_sentence(scripted, item_id, sentence):
    flow = start(scripted, item_id, "chen_ming")  # no insurance at all
    view = flow.load()
    assert view.empty and not view.sections and not view.can_print
    assert sentence in view.message_zh


def test_contribution_history_by_year_with_big_year_buttons(scripted):
    person = BY_KEY["wang_jianguo"]
    flow = start(scripted, "contribution_history_query", "wang_jianguo")
    view = flow.load()
    years = [c.value for c in view.choices]
    assert years == sorted(years, reverse=True) and view.chosen == years[0]
    latest = scripted.kiosk.backend.contributions(person.id_number)
    assert len(all_rows(view)) == len(latest["rows"])
    assert yuan(latest["total_personal_fen"]) in view.message_zh
    older = flow.choose(years[3])
    assert older.chosen == years[3] and f"{years[3]}年" in older.message_zh
    that_year = scripted.kiosk.backend.contributions(person.id_number, years[3])
    assert [r[0] for r in all_rows(older)] == [r["period"] for r in that_year["rows"]]
    assert all(re.fullmatch(r"￥\d{1,3}(,\d{3})*\.\d\d", r[2]) for r in all_rows(older))  # ￥1,234.56


def test_medical_account_balance_and_newest_movements_first(scripted):
    person = BY_KEY["wang_jianguo"]
    flow = start(scripted, "medical_account_query", "wang_jianguo")
    view = flow.load()
    acct = scripted.kiosk.backend.medical_account(person.id_number)
    assert view.message_zh == f"账户余额 {yuan(acct['balance_fen'])}"
    rows = all_rows(view)
    assert len(rows) == len(acct["movements"])
    assert [r[0] for r in rows] == sorted((r[0] for r in rows), reverse=True)
    assert rows[0][3] == yuan(acct["balance_fen"])  # the newest line ends on today's balance
    last_year = flow.choose(view.chosen - 1)
    assert last_year.chosen == view.chosen - 1 and last_year.sections[0].title_zh.startswith(str(view.chosen - 1))


def test_a_pensioner_sees_contributions_and_the_pension_paid(scripted):
    flow = start(scripted, "resident_pension_query", "zhang_xiuying")
    view = flow.load()
    assert [s.title_zh for s in view.sections] == ["缴费情况", "养老金领取"]
    assert view.message_zh.startswith("每月领取养老金")
    payments = view.sections[1].table
    assert isinstance(payments, TableView) and payments.rows
    assert all("****" in row[3] or row[3].count("*") >= 4 for row in payments.rows)  # bank accounts masked


def test_pages_fit_the_screen_and_lose_no_row(scripted):
    flow = start(scripted, "medical_account_query", "wang_jianguo")
    view = flow.load()
    table_rows = view.sections[0].table.rows
    for budget in (7, 10):
        pages = view.pages(budget)
        assert len(pages) > 1
        for page in pages:
            assert page and sum(p.lines for p in page) <= budget
        assert [row for page in pages for p in page for row in p.body] == list(table_rows)
        continued = [p for page in pages[1:] for p in page]
        assert all(p.header == ("日期", "摘要", "收支", "余额") for p in continued)  # headers repeat


def test_finishing_a_query_journals_it_once_and_the_session_is_wiped(scripted, reference_backend):
    flow = start(scripted, "insured_status_query", "zhou_fang")
    flow.load()
    txn = scripted.journey.session.transaction_no
    outcome = flow.done()
    assert outcome.ok and outcome.reference == txn
    flow.done()  # a double tap changes nothing
    scripted.journey.finish(outcome)
    scripted.journey.to_rating()
    scripted.journey.rating_timed_out()
    assert scripted.journey.state == "farewell" and scripted.journey.farewell.cards == ("idcard",)
    assert not scripted.journey.session.holds_personal_data
    scripted.kiosk.delivery.flush(10)
    mine = [t["payload"] for t in reference_backend.received("transaction") if t["payload"]["transaction_no"] == txn]
    assert len(mine) == 1 and mine[0]["status"] == "completed" and mine[0]["masked_name"] == "周*"


def test_a_backend_outage_while_loading_raises_a_retryable_error(scripted, reference_backend):
    flow = start(scripted, "resident_pension_query", "li_guilan")
    reference_backend.faults.set("5xx", path_prefix="/v1/residents")
    with pytest.raises(BackendUnavailableError) as err:
        flow.load()
    assert err.value.retryable and err.value.message_zh  # the screen turns it into a sentence and a reference
    reference_backend.faults.clear()
    assert not flow.load().empty
