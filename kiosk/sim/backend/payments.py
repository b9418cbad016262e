"""Bills, contribution options and payment orders: the reference backend's payment simulator.

An order is created with an idempotency key (a retry never makes a second order), carries a QR
payload the resident scans, and is paid by the simulated payment channel: ``mark_paid`` (a
test), ``POST /sim/orders/{no}/pay`` (the simulator panel) or ``auto_pay_after_s`` (demos).
Amounts are always computed here from the bills or the contribution grade, never taken from
the terminal. Three demo orders exist from the start: paid, unpaid and expired.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from typing import TYPE_CHECKING, Any

from kiosk.backend import models as m
from kiosk.identity import mask_id_number
from kiosk.sim.backend import bills, records
from kiosk.sim.backend.api import ApiError, Call, idempotent, parse, resident
from kiosk.sim.demo_data import DemoResident

if TYPE_CHECKING:
    from kiosk.sim.backend.server import ReferenceBackend

PAY_URL = "https://pay.zwfw.example.cn/q/"  # what the resident's payment app opens
DEMO_ORDERS = {
    "PO-DEMO-PAID-0001": "paid",
    "PO-DEMO-UNPAID-0001": "unpaid",
    "PO-DEMO-EXPIRED-0001": "expired",
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).astimezone()


def _iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="seconds")


# --- what is payable ---------------------------------------------------------------------------


def paid_bill_ids(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT bill_id FROM bill_payments")}


def paid_periods(conn: sqlite3.Connection, r: DemoResident, scheme: str) -> set[str]:
    rows = conn.execute(
        "SELECT period FROM contribution_payments WHERE resident=? AND scheme=?", (r.key, scheme)
    )
    return {row[0] for row in rows}


def account(utility: str, account_no: str) -> bills.Account:
    acct = bills.ACCOUNTS.get((utility, account_no))
    if acct is None:
        raise ApiError(
            404, "account_not_found", "未查询到该户号，请核对后重新输入", "No such account number"
        )
    return acct


def bill_statement(call: Call) -> tuple[int, dict]:
    q = parse(m.BillQuery, call.body)
    acct = account(q.utility, q.account_no)
    store = call.backend.store
    with store.lock:
        paid = paid_bill_ids(store.conn)
    return 200, bills.statement(acct, call.backend.today(), paid)


def _medical_year(today: dt.date) -> int:
    # 居民医保 is collected from September for the next year (集中征缴期)
    return today.year + 1 if today.month >= 9 else today.year


def options(r: DemoResident, scheme: str, today: dt.date, paid: set[str]) -> dict:
    eligible, reason = True, ""
    grades: list[dict] = []
    years: list[dict] = []
    months_max = 1
    if scheme == "pension_resident":
        if r.pension != "resident":
            eligible, reason = False, "您未参加城乡居民基本养老保险，请到窗口办理参保登记"
        elif r.retired:
            eligible, reason = False, "您已领取养老待遇，无需缴费"
        grades = [
            {"grade_id": f"g{y}", "amount_fen": y * 100, "label_zh": f"{y}元档"}
            for y in records.RESIDENT_PENSION_GRADES
        ]
        y = today.year
        derived_paid = (
            not records.annual_due(r, scheme, y, today) if r.pension == "resident" else False
        )
        years = [{"year": y, "paid": derived_paid or str(y) in paid}]
    elif scheme == "medical_resident":
        if r.medical != "resident":
            eligible, reason = False, "您未参加城乡居民基本医疗保险，或已参加职工医保"
        grades = [
            {
                "grade_id": "std",
                "amount_fen": records.RESIDENT_MEDICAL_YUAN * 100,
                "label_zh": "个人缴费标准",
            }
        ]
        y = _medical_year(today)
        derived_paid = y == today.year and not records.annual_due(r, scheme, y, today)
        years = [{"year": y, "paid": derived_paid or str(y) in paid}]
    else:  # pension_flexible
        if r.pension != "flexible":
            eligible, reason = False, "您不是灵活就业参保人员"
        grades = [
            {
                "grade_id": f"b{b}",
                "amount_fen": b * 20,
                "label_zh": f"缴费基数{b}元（每月{b * 20 // 100}元）",
            }
            for b in records.FLEXIBLE_BASE_YUAN
        ]
        months_max = 13 - today.month  # this month and the rest of the year
        years = [{"year": today.year, "paid": f"{today:%Y-%m}" in paid}]
    if eligible and all(y["paid"] for y in years):
        eligible, reason = False, "本年度已缴费，无需重复缴纳"
    return {
        "scheme": scheme,
        "scheme_zh": records.SCHEME_NAMES[scheme],
        "masked_id": mask_id_number(r.id_number),
        "eligible": eligible,
        "reason_zh": reason,
        "years": years,
        "grades": grades,
        "months_max": months_max,
    }


def contribution_options(call: Call) -> tuple[int, dict]:
    q = parse(m.ContributionOptionsQuery, call.body)
    r = resident(q.id_number)
    store = call.backend.store
    with store.lock:
        paid = paid_periods(store.conn, r, q.scheme)
    return 200, options(r, q.scheme, call.backend.today(), paid)


# --- orders ------------------------------------------------------------------------------------


def _order_row(conn: sqlite3.Connection, order_no: str, terminal: str | None) -> dict | None:
    row = conn.execute(
        "SELECT order_no, terminal, purpose, amount_fen, status, created_at, expires_at, paid_at, detail "
        "FROM orders WHERE order_no=?",
        (order_no,),
    ).fetchone()
    if row is None or (terminal is not None and row[1] not in (terminal, "*")):
        return None
    detail = json.loads(row[8])
    status = row[4]
    if status == "unpaid" and dt.datetime.fromisoformat(row[6]) < _now():
        status = "expired"
        conn.execute("UPDATE orders SET status='expired' WHERE order_no=?", (order_no,))
    return {
        "order_no": row[0],
        "purpose": row[2],
        "description_zh": detail["description_zh"],
        "amount_fen": row[3],
        "status": status,
        "qr_payload": PAY_URL + row[0],
        "created_at": row[5],
        "expires_at": row[6],
        "paid_at": row[7],
        "_detail": detail,
    }


def _public(order: dict) -> dict:
    return {k: v for k, v in order.items() if not k.startswith("_")}


def _priced(
    backend: ReferenceBackend, conn: sqlite3.Connection, o: Any
) -> tuple[int, str, str, dict]:
    """(amount, description, resident key, detail) for an order request, or ApiError."""
    today = backend.today()
    if isinstance(o, m.BillOrderIn):
        acct = account(o.utility, o.account_no)
        items = bills.bills(acct, today, paid_bill_ids(conn))
        due = [b for b in items if b["status"] == "due"]
        if o.bill_ids is not None:
            unknown = set(o.bill_ids) - {b["bill_id"] for b in items}
            if unknown:
                raise ApiError(
                    422, "bill_not_found", "账单不存在", f"unknown bills: {sorted(unknown)}"
                )
            due = [b for b in due if b["bill_id"] in o.bill_ids]
        if not due:
            raise ApiError(
                422, "nothing_due", "该户号没有待缴账单", "No bill is due on this account"
            )
        desc = f"{bills.UTILITIES[o.utility][0]} 户号{o.account_no} {len(due)}期"
        return (
            sum(b["amount_fen"] for b in due),
            desc,
            acct.resident.key,
            {"bill_ids": [b["bill_id"] for b in due]},
        )
    r = resident(o.id_number)
    opts = options(r, o.scheme, today, paid_periods(conn, r, o.scheme))
    if not opts["eligible"]:
        raise ApiError(422, "not_eligible", opts["reason_zh"], "Not eligible for this contribution")
    if o.year not in [y["year"] for y in opts["years"] if not y["paid"]]:
        raise ApiError(422, "year_not_payable", "该年度不能缴费", f"year {o.year} cannot be paid")
    grade = next((g for g in opts["grades"] if g["grade_id"] == o.grade_id), None)
    if grade is None:
        raise ApiError(422, "grade_not_found", "缴费档次不存在", f"no grade {o.grade_id}")
    if o.months > opts["months_max"]:
        raise ApiError(
            422, "too_many_months", "缴费月数超出范围", f"at most {opts['months_max']} months"
        )
    if o.scheme == "pension_flexible":
        start = today.month
        periods = [f"{o.year}-{mm:02d}" for mm in range(start, start + o.months)]
        amount = grade["amount_fen"] * o.months
    else:
        periods, amount = [str(o.year)], grade["amount_fen"]
    desc = f"{opts['scheme_zh']} {o.year}年 {grade['label_zh']}"
    return amount, desc, r.key, {"scheme": o.scheme, "periods": periods}


def create_order(call: Call) -> tuple[int, dict]:
    o = parse(m.OrderIn, call.body).root
    backend = call.backend

    def effect(conn: sqlite3.Connection) -> tuple[int, dict]:
        amount, desc, who, detail = _priced(backend, conn, o)
        seq = conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0] + 1
        now = _now()
        order_no = f"PO{backend.today():%Y%m%d}{seq:06d}"
        detail |= {"description_zh": desc}
        conn.execute(
            "INSERT INTO orders VALUES (?, ?, ?, ?, ?, 'unpaid', ?, ?, NULL, ?)",
            (
                order_no,
                call.terminal,
                o.purpose,
                who,
                amount,
                _iso(now),
                _iso(now + dt.timedelta(seconds=backend.order_ttl_s)),
                json.dumps(detail, ensure_ascii=False),
            ),
        )
        if backend.auto_pay_after_s is not None:
            backend.schedule_auto_pay(order_no)
        order = _order_row(conn, order_no, None)
        assert order is not None
        return 201, _public(order)

    return idempotent(call, "order", effect)


def order_status(call: Call) -> tuple[int, dict]:
    q = parse(m.OrderRef, call.body)
    store = call.backend.store
    with store.lock:
        order = _order_row(store.conn, q.order_no, call.terminal)
    if order is None:
        raise ApiError(404, "order_not_found", "订单不存在", "No such order")
    return 200, _public(order)


def close_order(call: Call) -> tuple[int, dict]:
    q = parse(m.OrderRef, call.body)

    def effect(conn: sqlite3.Connection) -> tuple[int, dict]:
        order = _order_row(conn, q.order_no, call.terminal)
        if order is None:
            raise ApiError(404, "order_not_found", "订单不存在", "No such order")
        if order["status"] == "paid":
            # the resident paid just before the terminal gave up: it must record the payment
            raise ApiError(409, "order_paid", "订单已支付，无需关闭", "The order is already paid")
        if order["status"] == "unpaid":
            conn.execute("UPDATE orders SET status='closed' WHERE order_no=?", (q.order_no,))
            order["status"] = "closed"
        return 200, _public(order)

    return idempotent(call, "close_order", effect)


def mark_paid(backend: ReferenceBackend, order_no: str) -> dict:
    """The payment channel confirms the resident paid. Paying a paid order changes nothing."""
    store = backend.store
    with store.lock:
        store.conn.execute("BEGIN IMMEDIATE")
        try:
            order = _order_row(store.conn, order_no, None)
            if order is None:
                raise ApiError(404, "order_not_found", "订单不存在", "No such order")
            if order["status"] in ("closed", "expired"):
                raise ApiError(
                    409, "order_not_payable", "订单已关闭或已过期", f"order is {order['status']}"
                )
            if order["status"] == "unpaid":
                paid_at = _iso(_now())
                store.conn.execute(
                    "UPDATE orders SET status='paid', paid_at=? WHERE order_no=?",
                    (paid_at, order_no),
                )
                _apply(store.conn, order, paid_at)
                order |= {"status": "paid", "paid_at": paid_at}
            store.conn.execute("COMMIT")
        except BaseException:
            store.conn.execute("ROLLBACK")
            raise
    return _public(order)


def _apply(conn: sqlite3.Connection, order: dict, paid_at: str) -> None:
    detail = order["_detail"]
    for bill_id in detail.get("bill_ids", []):
        conn.execute(
            "INSERT OR IGNORE INTO bill_payments VALUES (?, ?, ?)",
            (bill_id, order["order_no"], paid_at),
        )
    if "scheme" in detail:
        who = conn.execute(
            "SELECT resident FROM orders WHERE order_no=?", (order["order_no"],)
        ).fetchone()[0]
        share = order["amount_fen"] // max(1, len(detail["periods"]))
        for period in detail["periods"]:
            conn.execute(
                "INSERT OR IGNORE INTO contribution_payments VALUES (?, ?, ?, ?, ?, ?)",
                (who, detail["scheme"], period, order["order_no"], share, paid_at),
            )


def seed_demo_orders(backend: ReferenceBackend) -> None:
    """A paid, an unpaid and an expired order, callable by any terminal."""
    store = backend.store
    now = _now()
    with store.lock:
        for order_no, status in DEMO_ORDERS.items():
            created = now - (
                dt.timedelta(hours=2) if status == "expired" else dt.timedelta(minutes=1)
            )
            expires = created + (
                dt.timedelta(minutes=15) if status == "expired" else dt.timedelta(days=3650)
            )
            store.conn.execute(
                "INSERT OR IGNORE INTO orders VALUES (?, '*', 'bill', 'demo', 1234, ?, ?, ?, ?, ?)",
                (
                    order_no,
                    "unpaid" if status == "expired" else status,
                    _iso(created),
                    _iso(expires),
                    _iso(now) if status == "paid" else None,
                    json.dumps(
                        {"description_zh": f"演示订单（{status}）", "bill_ids": []},
                        ensure_ascii=False,
                    ),
                ),
            )
