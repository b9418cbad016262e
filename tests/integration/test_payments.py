"""缴费 through every layer without a window: bills and contributions paid by QR code.

Real HTTP to the reference backend (which prices the orders and is told when the resident
"scans and pays"), the real ESC/POS driver against the loopback printer emulator, the real
SQLite journal and outbox. Each case checks what the backend holds, what was printed, what
the journal says and what reached the backend through the outbox — and that the payer's
name and ID number appear nowhere in full.
"""

from __future__ import annotations

from kiosk.services.payment_order import PayState, pending_unconfirmed, settle_unconfirmed
from kiosk.sim.backend import bills
from kiosk.sim.demo_data import BY_KEY


def account_of(resident: str, utility: str) -> str:
    return next(a.account_no for a in bills.accounts_of(BY_KEY[resident]) if a.utility == utility)


def start_bill(s, utility="water", resident="zhang_xiuying"):
    item = next(i for i in s.kiosk.catalogue.items if i.flow == "utility_payment" and i.params["utility"] == utility)
    s.journey.choose(item.id)
    s.journey.proceed()  # a bill needs no identification
    assert s.journey.state == "item"
    flow = s.journey.flow
    charge = flow.load_bill(account_of(resident, utility))
    return item, flow, charge


def start_contribution(s, flow_name, resident):
    item = s.item_for_flow(flow_name)
    s.wait_device("idcard")
    s.journey.choose(item.id)
    s.journey.proceed()
    s.identify_with_idcard(resident)
    assert s.journey.state == "item", s.refused
    return item, s.journey.flow


def orders_at_backend(backend, terminal="NY-370921-0001"):
    with backend.store.lock:
        rows = backend.store.conn.execute(
            "SELECT order_no, status, amount_fen FROM orders WHERE terminal=?", (terminal,)
        ).fetchall()
    return rows


def delivered(s, backend, txn):
    s.kiosk.delivery.flush(10)
    return [r["payload"] for r in backend.received("transaction") if r["payload"]["transaction_no"].startswith(txn)]


def journal_rows(s, txn):
    return [r for r in s.kiosk.journal.recent() if r["transaction_no"].startswith(txn)]


def assert_masked(text: str, resident: str) -> None:
    person = BY_KEY[resident]
    assert person.id_number not in text and person.name not in text and person.phone not in text


def test_water_bill_paid_prints_a_receipt_once_and_journals_it(scripted, reference_backend):
    scripted.wait_device("printer")
    item, flow, charge = start_bill(scripted, "water", "zhang_xiuying")
    account = scripted.journey.session.data["account_no"]
    assert charge.payable and charge.amount_fen == 3850 and charge.payer_masked == "张**"
    assert account not in str(charge)  # the account number is masked on the confirm screen
    view = flow.start_payment()
    assert view.amount_fen == 3850 and view.payee_zh == "宁阳县自来水有限公司"
    assert view.qr_payload.endswith(view.order_no)
    assert 0 < view.seconds_left <= 180
    assert flow.poll() is None  # nobody has paid yet
    txn = flow.txn

    reference_backend.mark_paid(view.order_no)  # the resident scans and pays
    outcome = flow.poll()
    assert outcome.ok and outcome.title_zh == "缴费成功" and outcome.reference == txn
    assert flow.print_certificate().ok  # a second press (retry) prints nothing more

    printer = scripted.kiosk.hub.emulator("printer")
    assert printer.wait_for_documents(1)
    doc = printer.documents[-1]
    assert len(printer.documents) == 1
    flat = "".join(doc.text.split())  # long values wrap on 32 columns
    assert "缴费凭证" in flat and "￥38.50" in flat and txn in flat
    assert "户名：张**" in flat and account not in flat and "户号：******" + account[-4:] in flat
    assert_masked(flat, "zhang_xiuying")
    assert doc.qr_payloads == [f"ZWFW-PAY:{view.order_no}:{txn}:3850"]

    assert orders_at_backend(reference_backend) == [(view.order_no, "paid", 3850)]
    statement = scripted.kiosk.backend.bill("water", account)
    assert statement["total_due_fen"] == 0  # the bill is settled at the utility
    assert [(r["status"], r["amount_fen"], r["order_no"]) for r in journal_rows(scripted, txn)] == [
        ("completed", 3850, view.order_no)
    ]
    sent = delivered(scripted, reference_backend, txn)
    assert [(p["status"], p["masked_name"]) for p in sent] == [("completed", "张**")]

    scripted.journey.finish(outcome)
    scripted.journey.to_rating()
    scripted.journey.rating_timed_out()
    assert scripted.journey.state == "farewell" and scripted.journey.farewell.papers == ("receipt",)
    assert not scripted.journey.session.holds_personal_data


def test_a_retried_start_never_makes_a_second_order(scripted, reference_backend):
    _item, flow, _charge = start_bill(scripted, "electricity", "zhang_xiuying")
    first = flow.start_payment()
    again = flow.start_payment()  # a second tap, or a retry after a lost answer
    assert again.order_no == first.order_no
    assert len(orders_at_backend(reference_backend)) == 1


def test_cancel_closes_the_order_and_nothing_is_printed(scripted, reference_backend):
    scripted.wait_device("printer")
    _item, flow, _charge = start_bill(scripted, "gas", "zhang_xiuying")
    view = flow.start_payment()
    outcome = flow.cancel()
    assert not outcome.ok and outcome.title_zh == "已取消缴费" and "没有被扣款" in outcome.message_zh
    assert orders_at_backend(reference_backend) == [(view.order_no, "closed", view.amount_fen)]
    assert flow.cancel() is outcome  # a second 取消 changes nothing
    assert scripted.kiosk.hub.emulator("printer").documents == []
    assert [r["status"] for r in journal_rows(scripted, flow.txn)] == ["cancelled"]
    assert [p["status"] for p in delivered(scripted, reference_backend, flow.txn)] == ["cancelled"]


def test_paid_just_before_cancel_counts_as_paid(scripted, reference_backend):
    scripted.wait_device("printer")
    _item, flow, _charge = start_bill(scripted, "water", "wang_jianguo")
    view = flow.start_payment()
    reference_backend.mark_paid(view.order_no)  # paid while the resident reached for 取消
    outcome = flow.cancel()
    assert outcome.ok and outcome.title_zh == "缴费成功"
    assert orders_at_backend(reference_backend) == [(view.order_no, "paid", view.amount_fen)]
    assert scripted.kiosk.hub.emulator("printer").wait_for_documents(1)
    assert [r["status"] for r in journal_rows(scripted, flow.txn)] == ["completed"]


def test_the_terminal_closes_the_order_when_its_window_ends(scripted, reference_backend):
    _item, flow, _charge = start_bill(scripted, "water", "li_guilan")
    flow.window_s = 0.5
    view = flow.start_payment()
    outcome = flow.wait(timeout=10, interval=0.2)
    assert outcome is not None and not outcome.ok and outcome.title_zh.startswith("支付超时")
    assert orders_at_backend(reference_backend) == [(view.order_no, "closed", view.amount_fen)]
    assert [r["status"] for r in journal_rows(scripted, flow.txn)] == ["cancelled"]


def test_an_order_the_backend_expired_ends_as_not_paid(scripted, reference_backend):
    reference_backend.order_ttl_s = 0  # the backend's own limit runs out first
    _item, flow, _charge = start_bill(scripted, "water", "chen_ming")
    view = flow.start_payment()
    outcome = flow.wait(timeout=10, interval=0.2)
    assert outcome is not None and not outcome.ok and "没有被扣款" in outcome.message_zh
    assert flow.state is PayState.EXPIRED
    assert orders_at_backend(reference_backend) == [(view.order_no, "expired", view.amount_fen)]
    assert [r["status"] for r in journal_rows(scripted, flow.txn)] == ["cancelled"]


def test_network_lost_after_paying_then_back_within_the_session(scripted, reference_backend):
    scripted.wait_device("printer")
    _item, flow, _charge = start_bill(scripted, "electricity", "liu_yan")
    view = flow.start_payment()
    reference_backend.mark_paid(view.order_no)
    reference_backend.faults.set("drop", path_prefix="/v1/orders/status")
    assert flow.poll() is None  # no answer: unknown, and the terminal keeps asking
    assert flow.state is PayState.UNKNOWN
    reference_backend.faults.clear()
    outcome = flow.poll()  # reconciled by asking again: paid, printed once
    assert outcome.ok and flow.state is PayState.PAID
    assert scripted.kiosk.hub.emulator("printer").wait_for_documents(1)
    assert [r["status"] for r in journal_rows(scripted, flow.txn)] == ["completed"]
    assert len(orders_at_backend(reference_backend)) == 1


def test_unknown_payment_is_told_honestly_then_settled_later(scripted, reference_backend):
    scripted.wait_device("printer")
    _item, flow = start_contribution(scripted, "resident_medical_payment", "zhou_fang")
    choice = flow.load_options()
    assert choice.eligible and choice.masked_name == "周*"
    flow.choose(choice.grades[0].grade_id)
    view = flow.start_payment()
    reference_backend.mark_paid(view.order_no)  # paid, but the answer never reaches the terminal
    reference_backend.faults.set("drop", path_prefix="/v1/orders/")
    flow.unknown_grace_s = 0.3
    outcome = flow.wait(timeout=15, interval=0.2)
    assert outcome is not None and not outcome.ok and outcome.title_zh == "支付结果确认中"
    assert outcome.reference == flow.txn and "请勿重复缴费" in outcome.message_zh
    assert scripted.kiosk.hub.emulator("printer").documents == []
    journal = scripted.kiosk.journal
    assert [r["status"] for r in journal_rows(scripted, flow.txn)] == ["paid_unconfirmed"]
    assert [r["transaction_no"] for r in pending_unconfirmed(journal)] == [flow.txn]

    # the resident cannot be charged twice: this session has its order and will not make another
    assert flow.start_payment().order_no == view.order_no
    assert settle_unconfirmed(journal, scripted.kiosk.backend) == []  # still no answer: still pending
    reference_backend.faults.clear()
    settled = settle_unconfirmed(journal, scripted.kiosk.backend)
    assert [(r["status"], r["order_no"]) for r in settled] == [("completed", view.order_no)]
    assert pending_unconfirmed(journal) == []
    assert settle_unconfirmed(journal, scripted.kiosk.backend) == []  # settled once only
    sent = delivered(scripted, reference_backend, flow.txn)
    assert sorted((p["transaction_no"], p["status"]) for p in sent) == [
        (flow.txn, "paid_unconfirmed"), (flow.txn + "-R", "completed")
    ]
    assert all(p["masked_name"] == "周*" and "*" in p["masked_id"] for p in sent)
    assert_masked(str(sent) + str(journal_rows(scripted, flow.txn)), "zhou_fang")
    assert orders_at_backend(reference_backend) == [(view.order_no, "paid", view.amount_fen)]


def test_an_unconfirmed_unpaid_order_is_closed_when_settled(scripted, reference_backend):
    _item, flow, _charge = start_bill(scripted, "water", "wang_jianguo")
    view = flow.start_payment()
    reference_backend.faults.set("drop", path_prefix="/v1/orders/")
    outcome = flow.cancel()  # 取消 while the network is down: the close cannot be confirmed
    assert outcome.title_zh == "支付结果确认中"
    reference_backend.faults.clear()
    settled = settle_unconfirmed(scripted.kiosk.journal, scripted.kiosk.backend)
    assert [r["status"] for r in settled] == ["cancelled"]
    assert orders_at_backend(reference_backend) == [(view.order_no, "closed", view.amount_fen)]


def test_backend_down_before_ordering_gives_a_clear_outcome_and_no_order(scripted, reference_backend):
    _item, flow, _charge = start_bill(scripted, "water", "zhang_xiuying")
    reference_backend.faults.set("5xx", path_prefix="/v1/orders")
    try:
        flow.start_payment()
    except Exception as e:  # noqa: BLE001 - the screen hands exactly this to order_failed
        outcome = flow.order_failed(e)
    else:
        raise AssertionError("ordering should have failed")
    assert not outcome.ok and "没有被扣款" in outcome.message_zh and outcome.reference == flow.txn
    assert orders_at_backend(reference_backend) == []
    assert [(r["status"], r["order_no"]) for r in journal_rows(scripted, flow.txn)] == [("failed", None)]


def test_a_wrong_account_number_is_refused_with_a_plain_message(scripted):
    item = next(i for i in scripted.kiosk.catalogue.items if i.flow == "utility_payment")
    scripted.journey.choose(item.id)
    scripted.journey.proceed()
    flow = scripted.journey.flow
    for wrong, words in (("123", "位数字"), ("99999999", "未查询到该户号")):
        try:
            flow.load_bill(wrong)
        except Exception as e:  # noqa: BLE001
            assert words in e.message_zh
        else:
            raise AssertionError(f"{wrong} accepted")
    assert flow.charge is None


def test_a_paid_up_account_has_nothing_to_pay(scripted):
    item = next(i for i in scripted.kiosk.catalogue.items if i.params.get("utility") == "electricity")
    scripted.journey.choose(item.id)
    scripted.journey.proceed()
    charge = scripted.journey.flow.load_bill(account_of("wang_jianguo", "electricity"))
    assert not charge.payable and charge.amount_fen == 0 and "无需缴费" in charge.reason_zh
    flow = scripted.journey.flow
    outcome = flow.nothing_to_pay()
    assert outcome.ok and outcome.title_zh == "无需缴费"
    assert [(r["status"], r["order_no"]) for r in journal_rows(scripted, flow.txn)] == [("completed", None)]


def test_resident_pension_contribution_paid_with_the_chosen_grade(scripted, reference_backend):
    scripted.wait_device("printer")
    _item, flow = start_contribution(scripted, "resident_pension_payment", "liu_yan")
    choice = flow.load_options()
    assert choice.eligible and len(choice.grades) >= 5 and choice.year
    grade = choice.grades[2]
    charge = flow.choose(grade.grade_id)
    assert charge.amount_fen == grade.amount_fen
    view = flow.start_payment()
    assert view.amount_fen == grade.amount_fen and view.payee_zh.startswith("税务部门")
    reference_backend.mark_paid(view.order_no)
    assert flow.poll().ok
    printer = scripted.kiosk.hub.emulator("printer")
    assert printer.wait_for_documents(1)
    text = "".join(printer.documents[-1].text.split())
    assert grade.label_zh in text and f"{choice.year}年" in text and "刘*" in text
    assert_masked(text, "liu_yan")
    # the backend now holds the year as paid: the same resident is not offered it again
    again = scripted.kiosk.backend.contribution_options(BY_KEY["liu_yan"].id_number, "pension_resident")
    assert not again["eligible"] and "已缴费" in again["reason_zh"]


def test_flexible_worker_pays_several_months(scripted, reference_backend):
    _item, flow = start_contribution(scripted, "flexible_pension_payment", "guo_qiang")
    choice = flow.load_options()
    assert choice.months_max >= 1
    months = choice.months_max
    charge = flow.choose(choice.grades[0].grade_id, months=months + 5)  # capped at what is offered
    assert charge.amount_fen == choice.grades[0].amount_fen * months
    view = flow.start_payment()
    assert view.amount_fen == charge.amount_fen  # the backend priced the same months


def test_a_resident_not_in_the_scheme_is_told_why(scripted):
    _item, flow = start_contribution(scripted, "resident_pension_payment", "wang_jianguo")
    choice = flow.load_options()
    assert not choice.eligible and "未参加" in choice.reason_zh
    assert flow.charge is not None and not flow.charge.payable
    outcome = flow.nothing_to_pay()
    assert not outcome.ok and outcome.title_zh == "暂不能在本终端缴费" and "未参加" in outcome.message_zh
    assert [r["status"] for r in journal_rows(scripted, flow.txn)] == ["failed"]
    try:
        flow.choose("g100")
    except Exception as e:  # noqa: BLE001
        assert type(e).__name__ == "JourneyError"
    else:
        raise AssertionError("a grade was accepted for a resident outside the scheme")


def test_session_ending_mid_payment_closes_the_order(scripted, reference_backend):
    _item, flow = start_contribution(scripted, "resident_medical_payment", "he_jing")
    choice = flow.load_options()
    flow.choose(choice.grades[0].grade_id)
    view = flow.start_payment()
    scripted.kiosk.hub.emulator("idcard").remove()  # the resident walks away with the card
    scripted.pump(lambda: scripted.journey.state == "farewell", 10, "the session to end")
    assert scripted.journey.end_reason == "card_removed"
    flow.abandon()  # what the QR screen does when it is left without an ending
    assert orders_at_backend(reference_backend) == [(view.order_no, "closed", view.amount_fen)]
    assert [r["status"] for r in journal_rows(scripted, flow.txn)] == ["cancelled"]


def test_the_next_payment_settles_an_earlier_doubt_first(scripted, reference_backend):
    _item, first, _charge = start_bill(scripted, "water", "chen_ming")
    old = first.start_payment()
    reference_backend.faults.set("drop", path_prefix="/v1/orders/")
    assert first.cancel().title_zh == "支付结果确认中"  # the old order is still open at the backend
    reference_backend.faults.clear()
    scripted.journey.end("cancelled")

    _item, second, _charge = start_bill(scripted, "water", "chen_ming")
    new = second.start_payment()
    assert new.order_no != old.order_no
    assert {no: status for no, status, _ in orders_at_backend(reference_backend)} == {
        old.order_no: "closed", new.order_no: "unpaid"
    }  # never two payable orders for the same bills
    assert sorted((r["transaction_no"], r["status"]) for r in journal_rows(scripted, first.txn)) == [
        (first.txn, "paid_unconfirmed"), (first.txn + "-R", "cancelled")
    ]


def test_paper_out_keeps_the_payment_and_a_retry_prints_once(scripted, reference_backend):
    from kiosk.hardware.base import PaperStatus

    scripted.wait_device("printer")
    printer = scripted.kiosk.hub.emulator("printer")
    _item, flow, _charge = start_bill(scripted, "gas", "liu_yan")
    view = flow.start_payment()
    printer.set_paper(PaperStatus.OUT)
    reference_backend.mark_paid(view.order_no)
    outcome = flow.poll()
    assert outcome.ok and outcome.can_retry == "print"  # paid stays paid: only the paper is missing
    assert "请勿重复缴费" in outcome.message_zh and "缺纸" in outcome.message_zh
    assert [r["status"] for r in journal_rows(scripted, flow.txn)] == ["completed"]
    printer.set_paper(PaperStatus.FULL)
    assert flow.print_certificate().ok  # the result screen's 重新打印
    assert flow.print_certificate().ok
    assert printer.wait_for_documents(1)
    assert len(printer.documents) == 1
