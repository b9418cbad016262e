"""Codes on the resident's phone over real HTTP: 电子社保卡 / 电子身份证 tokens and 付款码.

The reference backend issues and resolves identity tokens (60 s, single use) and pays orders
with payment codes (paid, paying while the payer confirms, refused, reversed). The terminal's
real client, journey, scanner driver (against its pty emulator), journal, outbox and printer
emulator run; faults on the backend lose answers the way a network does.
"""

from __future__ import annotations

import time

import pytest

from kiosk.backend.client import BackendClient
from kiosk.errors import BackendError, BackendUnavailableError
from kiosk.hardware.scanner_frame import ScannedCode
from kiosk.services.payment_code import CodePayment, for_flow
from kiosk.services.payment_order import pending_unconfirmed, settle_unconfirmed
from kiosk.sim.backend import bills, paycode, tokens
from kiosk.sim.demo_data import BY_KEY
from tests.support import TEST_SECRET

TERMINAL = "NY-370921-0001"
PAID, PENDING, NEVER, POOR, LATE, EXPIRED, USED = list(paycode.DEMO_CODES)


@pytest.fixture
def client(reference_backend):
    c = BackendClient(reference_backend.url, TERMINAL, TEST_SECRET.encode(), read_timeout=5)
    yield c
    c.close()


def wait_for(cond, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def water_order(client, resident: str = "zhang_xiuying", key: str = "k-order-1") -> dict:
    account = next(a.account_no for a in bills.accounts_of(BY_KEY[resident]) if a.utility == "water")
    return client.create_order({"purpose": "bill", "utility": "water", "account_no": account}, idempotency_key=key)


def due_bills(client, resident: str = "zhang_xiuying") -> int:
    account = next(a.account_no for a in bills.accounts_of(BY_KEY[resident]) if a.utility == "water")
    return sum(1 for b in client.bill("water", account)["bills"] if b["status"] == "due")


# --- identity tokens ---------------------------------------------------------------------------


def test_a_token_names_its_resident_once(reference_backend, client):
    code = tokens.issue(reference_backend, "zhang_xiuying")
    who = client.resolve_identity_code(code, idempotency_key="scan-1")
    person = BY_KEY["zhang_xiuying"]
    assert (who["id_number"], who["name"], who["source"]) == (person.id_number, person.name, "e_sscard")
    assert who["masked_id"] == "370***********4027" and who["masked_name"] == "张**"
    assert client.resolve_identity_code(code, idempotency_key="scan-1") == who  # a resend: same answer
    with pytest.raises(BackendError) as used:
        client.resolve_identity_code(code, idempotency_key="scan-2")
    assert used.value.code == "token_used" and "刷新" in used.value.message_zh


def test_a_token_lives_sixty_seconds(reference_backend, client):
    # 5 s short of its end: a loaded machine can take a second or more between issue and scan
    fresh_enough = tokens.issue(reference_backend, "li_guilan", "e_id", age_s=tokens.TOKEN_TTL_S - 5)
    assert client.resolve_identity_code(fresh_enough, idempotency_key="scan-3")["source"] == "e_id"
    stale = tokens.issue(reference_backend, "li_guilan", age_s=tokens.TOKEN_TTL_S + 1)
    with pytest.raises(BackendError) as expired:
        client.resolve_identity_code(stale, idempotency_key="scan-4")
    assert expired.value.code == "token_expired"


def test_forged_and_foreign_codes_are_refused(reference_backend, client):
    code = tokens.issue(reference_backend, "wang_jianguo")
    forged = code[:-4] + ("0000" if not code.endswith("0000") else "1111")
    for n, (text, why) in enumerate(((forged, "token_forged"), ("HELLO WORLD", "token_unknown"),
                                     ("ESSC1." + "a" * 16 + ".0123456789abcdef", "token_forged"))):
        # a key per code: the gateway keeps a refusal as the answer to its key
        with pytest.raises(BackendError) as refused:
            client.resolve_identity_code(text, idempotency_key=f"scan-{why}-{n}")
        assert refused.value.code == why


# --- payment codes -----------------------------------------------------------------------------


def test_a_code_pays_the_order_once_and_is_then_used(client):
    due = due_bills(client)
    order = water_order(client)
    paid = client.pay_with_code(order["order_no"], PAID, "k-order-1-code-1", deadline_s=5)
    assert paid["status"] == "paid" and paid["order"]["status"] == "paid"
    assert client.order_status(order["order_no"])["status"] == "paid" and due_bills(client) == 0 < due
    assert client.pay_with_code(order["order_no"], PAID, "k-order-1-code-1", deadline_s=5) == paid  # resend
    with pytest.raises(BackendError) as again:
        client.pay_with_code(order["order_no"], "134527980099999999", "k-order-1-code-2", deadline_s=5)
    assert again.value.code == "order_paid"  # an order is paid once
    other = water_order(client, "wang_jianguo", key="k-order-2")
    refused = client.pay_with_code(other["order_no"], PAID, "k-order-2-code-1", deadline_s=5)
    assert (refused["status"], refused["reason"], refused["order"]["status"]) == ("failed", "code_used", "unpaid")


def test_insufficient_funds_charges_nothing_and_the_qr_code_still_pays(reference_backend, client):
    order = water_order(client)
    refused = client.pay_with_code(order["order_no"], POOR, "k-poor-1", deadline_s=5)
    assert (refused["status"], refused["reason"]) == ("failed", "insufficient_funds")
    assert client.code_payment_status(order["order_no"])["status"] == "failed"
    reference_backend.mark_paid(order["order_no"])
    assert client.order_status(order["order_no"])["status"] == "paid"


def test_the_payer_entering_the_password_then_paid(monkeypatch, client):
    monkeypatch.setattr(paycode, "PENDING_S", 0.3)
    order = water_order(client)
    first = client.pay_with_code(order["order_no"], PENDING, "k-pending-1", deadline_s=5)
    assert first["status"] == "paying" and first["order"]["status"] == "unpaid"
    wait_for(lambda: client.code_payment_status(order["order_no"])["status"] == "paid")
    assert client.order_status(order["order_no"])["status"] == "paid"


def test_a_reversal_closes_the_order_and_gives_back_what_was_paid(client):
    due = due_bills(client)
    pending = water_order(client)
    assert client.pay_with_code(pending["order_no"], NEVER, "k-never-1", deadline_s=5)["status"] == "paying"
    undone = client.reverse_code_payment(pending["order_no"], f"reverse-{pending['order_no']}")
    assert (undone["status"], undone["refunded"], undone["order"]["status"]) == ("reversed", False, "closed")
    paid = water_order(client, key="k-order-3")
    client.pay_with_code(paid["order_no"], "134527980088888888", "k-paid-1", deadline_s=5)
    assert due_bills(client) == 0
    undone = client.reverse_code_payment(paid["order_no"], f"reverse-{paid['order_no']}")
    assert (undone["status"], undone["refunded"], undone["order"]["status"]) == ("reversed", True, "closed")
    assert due_bills(client) == due  # the bills are due again: the money went back


def test_an_answer_that_comes_after_the_deadline_is_lost_but_the_payment_stands(monkeypatch, client):
    monkeypatch.setattr(paycode, "LATE_S", 2.0)
    order = water_order(client)
    with pytest.raises(BackendUnavailableError):
        client.pay_with_code(order["order_no"], LATE, "k-late-1", deadline_s=0.5)
    answer = client.code_payment_status(order["order_no"])
    assert answer["status"] == "paid" and answer["order"]["status"] == "paid"


# --- through the journey ------------------------------------------------------------------------


def start_water_bill(s):
    item = next(i for i in s.kiosk.catalogue.items if i.flow == "utility_payment" and i.params["utility"] == "water")
    s.journey.choose(item.id)
    s.journey.proceed()
    flow = s.journey.flow
    account = next(a.account_no for a in bills.accounts_of(BY_KEY["zhang_xiuying"]) if a.utility == "water")
    flow.load_bill(account)
    flow.start_payment()
    return flow


def test_scan_identify_end_to_end_and_an_early_code_never_counts(scripted, reference_backend):
    s = scripted
    s.wait_device("scanner")
    item = s.item_for_flow("insurance_query")
    s.journey.choose(item.id)
    s.journey.proceed()
    early = tokens.issue(reference_backend, "wang_jianguo")
    s.kiosk.hub.emulator("scanner").scan(early)  # shown before 扫码核验 was chosen
    s.pump(lambda: s.scans_seen == 1, 5, "the early code to arrive")
    assert s.journey.state == "identify" and s.scanned == []  # read, and not taken
    s.identify_by_scan(tokens.issue(reference_backend, "zhang_xiuying"))
    assert s.journey.state == "item" and s.journey.session.identified_by == "scan", s.refused
    assert s.journey.session.identity.id_number == BY_KEY["zhang_xiuying"].id_number


def test_an_expired_code_at_the_terminal_says_refresh_it(scripted, reference_backend):
    s = scripted
    s.wait_device("scanner")
    s.journey.choose(s.item_for_flow("insurance_query").id)
    s.journey.proceed()
    s.identify_by_scan(tokens.issue(reference_backend, "zhang_xiuying", age_s=61))
    assert s.journey.state == "identify" and s.refused[-1].code == "token_expired"
    assert "刷新二维码" in s.refused[-1].message_zh


def test_pay_by_code_end_to_end_prints_one_receipt(scripted, reference_backend):
    s = scripted
    s.wait_device("printer")
    flow = start_water_bill(s)
    result = for_flow(flow).pay(ScannedCode("134527980077777777"))
    assert result.outcome.ok and result.outcome.title_zh == "缴费成功"
    printer = s.kiosk.hub.emulator("printer")
    assert printer.wait_for_documents(1, timeout=5) and len(printer.documents) == 1
    assert "77777777" not in printer.documents[-1].text
    assert s.kiosk.backend.order_status(flow.payment.order_no)["status"] == "paid"
    assert [r["status"] for r in s.kiosk.journal.recent() if r["transaction_no"] == flow.txn] == ["completed"]


def test_a_lost_answer_is_asked_about_and_found_paid(scripted, reference_backend):
    s = scripted
    s.wait_device("printer")
    flow = start_water_bill(s)
    reference_backend.faults.set("drop", path_prefix="/v1/orders/pay-code", when="after", count=1)
    payer = flow.code_payment = CodePayment(flow, answer_deadline_s=3, pending_max_s=5, query_every_s=0.2)
    result = payer.pay(ScannedCode("134527980066666666"))
    assert result.outcome.ok and s.kiosk.hub.emulator("printer").wait_for_documents(1, timeout=5)
    assert s.kiosk.backend.code_payment_status(flow.payment.order_no)["status"] == "paid"


def test_everything_lost_is_reversed_later_never_kept_without_a_receipt(monkeypatch, scripted, reference_backend):
    s = scripted
    flow = start_water_bill(s)
    due = due_bills(s.kiosk.backend)
    # the payment goes through but its answer comes too late; every question after it, and
    # the reversal, never reach the platform
    monkeypatch.setattr(paycode, "LATE_S", 2.0)
    reference_backend.faults.set("drop", path_prefix="/v1/orders/pay-code/", when="before")
    payer = flow.code_payment = CodePayment(flow, answer_deadline_s=0.5, pending_max_s=1, query_every_s=0.2)
    result = payer.pay(ScannedCode(LATE))
    assert result.outcome.notice and result.outcome.title_zh == "付款结果确认中"
    assert [r["transaction_no"] for r in pending_unconfirmed(s.kiosk.journal)] == [flow.txn]
    assert due_bills(s.kiosk.backend) == 0  # the code did pay, in the dark
    reference_backend.faults.clear()
    settled = settle_unconfirmed(s.kiosk.journal, s.kiosk.backend)
    assert [e["status"] for e in settled] == ["cancelled"]
    assert s.kiosk.backend.order_status(flow.payment.order_no)["status"] == "closed"
    assert due_bills(s.kiosk.backend) == due  # given back
    assert s.kiosk.hub.emulator("printer").documents == []
