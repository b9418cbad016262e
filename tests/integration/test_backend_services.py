"""Records, bills, payments, card services and certificates through the real client and server."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from kiosk.backend.client import BackendClient
from kiosk.errors import BackendError
from kiosk.sim.backend import bills
from kiosk.sim.backend.payments import DEMO_ORDERS
from kiosk.sim.demo_data import BY_KEY, RESIDENTS

TERMINAL, SECRET = "T-SERVICES", b"services-secret"
TODAY = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def client(backend):
    c = BackendClient(backend.url, TERMINAL, SECRET)
    yield c
    c.close()


def _code(fn, *args) -> str:
    with pytest.raises(BackendError) as e:
        fn(*args)
    assert e.value.message_zh and e.value.message_en
    return e.value.code


def test_rights_record_agrees_with_contributions(client):
    wang = BY_KEY["wang_jianguo"]
    rec = client.rights_record(wang.id_number)
    pension = next(s for s in rec["schemes"] if s["scheme"] == "pension_employee")
    paid_2020 = [
        r
        for r in client.contributions(wang.id_number, 2020)["rows"]
        if r["scheme"] == "pension_employee" and r["status"] == "paid"
    ]
    assert len(paid_2020) == 12
    assert pension["months_paid"] > 12 * 20 and pension["last_paid"] == "2026-10"
    assert pension["personal_account_fen"] > 0


def test_medical_account_only_for_employee_insurance(client):
    acct = client.medical_account(BY_KEY["wang_jianguo"].id_number, 2025)
    assert acct["year"] == 2025 and len(acct["movements"]) >= 12
    running = acct["opening_balance_fen"]
    for mv in acct["movements"]:
        running += mv["amount_fen"] if mv["kind"] == "credit" else -mv["amount_fen"]
        assert mv["balance_fen"] == running
    assert acct["balance_fen"] == running
    assert _code(client.medical_account, BY_KEY["zhou_fang"].id_number) == "no_personal_account"


def test_retirees_receive_pensions_and_others_do_not(client):
    for r in RESIDENTS:
        b = client.benefits(r.id_number)
        assert b["receiving"] == r.retired, r.key
        if r.retired:
            ben = b["benefits"][0]
            assert ben["monthly_fen"] > 0 and len(ben["payments"]) == 12
            assert all(p["masked_account"].startswith("*") for p in ben["payments"])


def test_resident_pension_years_and_benefit(client):
    zhang = client.resident_pension(BY_KEY["zhang_xiuying"].id_number)
    assert zhang["insured"] and zhang["benefit"]["monthly_fen"] > 0
    assert zhang["contributions"] and all(c["year"] < 2016 for c in zhang["contributions"])
    assert client.resident_pension(BY_KEY["wang_jianguo"].id_number)["insured"] is False


def test_utility_bills_and_paying_them(client, backend):
    acct = next(
        a
        for a in bills.ACCOUNTS.values()
        if a.utility == "electricity"
        and any(b["status"] == "due" for b in bills.bills(a, TODAY, set()))
    )
    assert len(acct.account_no) == 12
    st = client.bill("electricity", acct.account_no)
    due = [b for b in st["bills"] if b["status"] == "due"]
    assert st["total_due_fen"] == sum(b["amount_fen"] for b in due) > 0
    assert st["holder_masked_name"].endswith("*")
    order = client.create_order(
        {"purpose": "bill", "utility": "electricity", "account_no": acct.account_no},
        f"bill-{acct.account_no}",
    )
    assert order["amount_fen"] == st["total_due_fen"] and order["status"] == "unpaid"
    assert order["qr_payload"].endswith(order["order_no"])
    backend.mark_paid(order["order_no"])
    after = client.bill("electricity", acct.account_no)
    assert after["total_due_fen"] == 0 and all(b["status"] == "paid" for b in after["bills"])
    assert (
        _code(
            client.create_order,
            {"purpose": "bill", "utility": "electricity", "account_no": acct.account_no},
            "bill-again",
        )
        == "nothing_due"
    )


def test_account_numbers_have_8_to_12_digits_and_unknown_ones_are_refused(client):
    assert {len(a.account_no) for a in bills.ACCOUNTS.values()} == {8, 10, 12}
    assert len({a.account_no for a in bills.ACCOUNTS.values()}) == len(bills.ACCOUNTS)
    assert _code(client.bill, "water", "99999999") == "account_not_found"


def test_contribution_options_follow_who_the_resident_is(client):
    liu = client.contribution_options(BY_KEY["liu_yan"].id_number, "pension_resident")
    assert [g["amount_fen"] for g in liu["grades"]][:3] == [30000, 50000, 80000]
    not_flexible = client.contribution_options(BY_KEY["liu_yan"].id_number, "pension_flexible")
    assert not_flexible["eligible"] is False and not_flexible["reason_zh"]
    retired = client.contribution_options(BY_KEY["zhang_xiuying"].id_number, "pension_resident")
    assert retired["eligible"] is False and "待遇" in retired["reason_zh"]
    flexible = client.contribution_options(BY_KEY["sun_zhiqiang"].id_number, "pension_flexible")
    assert flexible["eligible"] and flexible["months_max"] == 13 - TODAY.month
    medical = client.contribution_options(BY_KEY["he_jing"].id_number, "medical_resident")
    assert medical["years"] == [
        {"year": TODAY.year + 1, "paid": False}
    ]  # collected for next year from September


def test_a_contribution_order_is_priced_by_the_backend_and_paid_once(client, backend):
    he = BY_KEY["he_jing"].id_number
    spec = {
        "purpose": "contribution",
        "id_number": he,
        "scheme": "medical_resident",
        "year": 2027,
        "grade_id": "std",
    }
    order = client.create_order(spec, "he-2027")
    assert order["amount_fen"] == 40000
    assert client.create_order(spec, "he-2027") == order  # a retry is the same order
    backend.mark_paid(order["order_no"])
    backend.mark_paid(order["order_no"])  # the channel confirming twice pays once
    assert client.order_status(order["order_no"])["status"] == "paid"
    assert client.contribution_options(he, "medical_resident")["eligible"] is False
    assert _code(client.create_order, spec, "he-2027-again") == "not_eligible"


def test_flexible_months_are_recorded_as_paid(client, backend):
    sun = BY_KEY["sun_zhiqiang"].id_number
    opts = client.contribution_options(sun, "pension_flexible")
    grade = opts["grades"][0]
    order = client.create_order(
        {
            "purpose": "contribution",
            "id_number": sun,
            "scheme": "pension_flexible",
            "year": 2026,
            "grade_id": grade["grade_id"],
            "months": 2,
        },
        "sun-flex",
    )
    assert order["amount_fen"] == grade["amount_fen"] * 2
    row = next(
        r
        for r in client.contributions(sun, 2026)["rows"]
        if r["period"] == "2026-11" and r["scheme"] == "pension_flexible"
    )
    assert row["status"] == "due"
    backend.mark_paid(order["order_no"])
    row = next(
        r
        for r in client.contributions(sun, 2026)["rows"]
        if r["period"] == "2026-11" and r["scheme"] == "pension_flexible"
    )
    assert row["status"] == "paid"


def test_demo_orders_paid_unpaid_expired(client):
    assert {n: client.order_status(n)["status"] for n in DEMO_ORDERS} == DEMO_ORDERS


def test_reconcile_never_pays_and_closing_a_paid_order_reports_it_paid(client, backend):
    ou = BY_KEY["ouyang_na"].id_number
    spec = {
        "purpose": "contribution",
        "id_number": ou,
        "scheme": "pension_resident",
        "year": 2026,
        "grade_id": "g500",
    }
    order = client.create_order(spec, "ou-1")
    assert client.reconcile_order(order["order_no"])["status"] == "unpaid"
    backend.mark_paid(order["order_no"])  # paid while the terminal was not looking
    assert client.reconcile_order(order["order_no"], close_unpaid=True)["status"] == "paid"
    assert _code(client.close_order, order["order_no"], "close-x") == "order_paid"
    ay = BY_KEY["ayigul"].id_number
    order2 = client.create_order(dict(spec, id_number=ay), "ay-1")
    closed = client.reconcile_order(order2["order_no"], close_unpaid=True)
    assert closed["status"] == "closed"
    with pytest.raises(Exception, match="order_not_payable"):
        backend.mark_paid(order2["order_no"])  # a closed order can no longer take money


def test_an_order_expires(client, backend):
    backend.order_ttl_s = 1
    ay = BY_KEY["ayigul"].id_number
    order = client.create_order(
        {
            "purpose": "contribution",
            "id_number": ay,
            "scheme": "pension_resident",
            "year": 2026,
            "grade_id": "g300",
        },
        "ay-expire",
    )
    backend.order_ttl_s = 900
    time.sleep(1.5)
    assert client.order_status(order["order_no"])["status"] == "expired"
    with pytest.raises(Exception, match="order_not_payable"):
        backend.mark_paid(order["order_no"])


def test_card_loss_needs_the_phone_on_record(client):
    feng = BY_KEY["feng_wei"]
    assert client.card_status(feng.id_number)["status"] == "normal"
    assert (
        _code(client.report_card_loss, feng.id_number, "13900000000", "loss-1") == "phone_mismatch"
    )
    assert client.card_status(feng.id_number)["status"] == "normal"
    done = client.report_card_loss(feng.id_number, feng.phone, "loss-2")
    assert done["status"] == "lost" and done["masked_card_number"].endswith(feng.sscard_number[-4:])
    assert (
        client.report_card_loss(feng.id_number, feng.phone, "loss-2") == done
    )  # retry, same answer
    assert _code(client.report_card_loss, feng.id_number, feng.phone, "loss-3") == "already_lost"
    assert (
        client.card_status(BY_KEY["zhao_li"].id_number)["status"] == "lost"
    )  # lost in the demo data


@pytest.mark.parametrize(
    ("who", "kind", "title_or_code"),
    [
        ("wang_jianguo", "contribution_proof", "个人参保缴费证明"),
        ("wang_jianguo", "rights_record", "个人权益记录单"),
        ("zhang_xiuying", "benefit_proof", "待遇领取证明"),
        ("wang_jianguo", "benefit_proof", "not_receiving"),
        ("zhou_fang", "medical_contribution_proof", "医保参保缴费证明"),
        ("chen_ming", "medical_contribution_proof", "not_insured"),
    ],
)
def test_certificate_kinds(client, who, kind, title_or_code):
    r = BY_KEY[who]
    try:
        cert = client.certificate(r.id_number, kind, f"{who}-{kind}")
    except BackendError as e:
        assert e.code == title_or_code
        return
    assert cert["document"]["title"] == title_or_code
    assert cert["document"]["table_rows"]
    check = client.verify_certificate(cert["verification_code"])
    assert (
        check["certificate_no"] == cert["certificate_no"]
        and check["holder_masked_name"] == cert["document"]["holder_masked_name"]
    )


def test_settlement_statement_for_a_year_with_settlements(client):
    from kiosk.sim.backend import accounts

    who, year = next(
        (r, y) for r in RESIDENTS for y in (2024, 2025) if accounts.settlements(r, y, TODAY)
    )
    cert = client.certificate(who.id_number, "medical_settlement", f"settle-{who.key}", year=year)
    assert cert["document"]["title"] == "基本医疗保险统筹费用结算明细单"
    assert len(cert["document"]["table_rows"]) == len(accounts.settlements(who, year, TODAY))
