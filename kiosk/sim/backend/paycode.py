"""Payment codes (付款码, 被扫): the simulated payment channel behind ``/v1/orders/pay-code``.

The terminal scans the payer's payment code and asks the platform to pay one of its orders
with it. Like the real channels, an attempt can succeed at once, fail (insufficient funds, a
code already used or expired), or stay ``paying`` while the payer confirms on the phone
(enters the password) and settle later. 撤销 (``/reverse``) closes the order and gives back
whatever moved. One order is paid once, by its QR code or by a payment code, never both.

Which of these happens is decided by the code, so a reviewer or a test can pick one:

==========================  ==========================================================
``134527980012345678``       paid at once
``134527980022345671``       the payer enters the password: ``paying``, then paid after
                             ``PENDING_S``
``134527980032345670``       the payer never confirms (``paying`` beyond 30 s): the
                             terminal must reverse
``134527980042345679``       insufficient funds
``134527980052345678``       paid, but the answer comes ``LATE_S`` after the deadline:
                             a lost answer
``134527980062345677``       expired (the app refreshes its code every minute)
``134527980072345676``       already used
any other 16-24 digits       paid at once, then used
==========================  ==========================================================
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kiosk.backend import models as m
from kiosk.sim.backend import payments
from kiosk.sim.backend.api import ApiError, Call, idempotent, parse

if TYPE_CHECKING:
    from kiosk.sim.backend.server import ReferenceBackend

#: how long the "enters the password" code stays ``paying`` before it is paid
PENDING_S = 6.0
#: how long after paying the "lost answer" code answers (longer than any terminal waits)
LATE_S = 15.0


@dataclass(frozen=True)
class Scenario:
    label_zh: str
    label_en: str
    result: str = "paid"  # paid | failed | never
    reason: str = ""
    pending: bool = False
    late: bool = False


DEMO_CODES: dict[str, Scenario] = {
    "134527980012345678": Scenario("付款码：支付成功", "Payment code: paid"),
    "134527980022345671": Scenario("付款码：需输入密码", "Payment code: payer enters the password", pending=True),
    "134527980032345670": Scenario("付款码：迟迟未确认", "Payment code: payer never confirms", result="never",
                                   pending=True),
    "134527980042345679": Scenario("付款码：余额不足", "Payment code: insufficient funds", result="failed",
                                   reason="insufficient_funds"),
    "134527980052345678": Scenario("付款码：应答丢失", "Payment code: the answer is lost", late=True),
    "134527980062345677": Scenario("付款码：已过期", "Payment code: expired", result="failed", reason="code_expired"),
    "134527980072345676": Scenario("付款码：已使用", "Payment code: already used", result="failed",
                                   reason="code_used"),
}
PAID_AT_ONCE = "134527980012345678"

SCHEMA = """
CREATE TABLE IF NOT EXISTS code_payments (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, order_no TEXT NOT NULL, code_hash TEXT NOT NULL,
    status TEXT NOT NULL, reason TEXT NOT NULL, started_at REAL NOT NULL, settles_at REAL,
    refunded INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS used_codes (code_hash TEXT PRIMARY KEY, order_no TEXT NOT NULL);
"""


def _schema(backend: ReferenceBackend) -> None:
    with backend.store.lock:
        backend.store.conn.executescript(SCHEMA)


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()  # the channel keeps no code in the clear


def _latest(conn: sqlite3.Connection, order_no: str) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT seq, status, reason, settles_at, refunded FROM code_payments WHERE order_no=? "
        "ORDER BY seq DESC LIMIT 1",
        (order_no,),
    ).fetchone()
    if row is None:
        return None
    return {"seq": row[0], "status": row[1], "reason": row[2], "settles_at": row[3], "refunded": bool(row[4])}


def _order(conn: sqlite3.Connection, order_no: str, terminal: str | None) -> dict:
    order = payments._order_row(conn, order_no, terminal)
    if order is None:
        raise ApiError(404, "order_not_found", "订单不存在", "No such order")
    return order


def _answer(order: dict, attempt: dict | None) -> dict:
    return {
        "order_no": order["order_no"],
        "status": attempt["status"] if attempt else "none",
        "reason": attempt["reason"] if attempt else "",
        "refunded": attempt["refunded"] if attempt else False,
        "order": payments._public(order),
    }


def _pay_order(conn: sqlite3.Connection, order: dict) -> dict:
    """Mark the order paid inside the caller's transaction (what ``payments.mark_paid`` does)."""
    paid_at = payments._iso(payments._now())
    conn.execute("UPDATE orders SET status='paid', paid_at=? WHERE order_no=?", (paid_at, order["order_no"]))
    payments._apply(conn, order, paid_at)
    return order | {"status": "paid", "paid_at": paid_at}


def pay(call: Call) -> tuple[int, dict]:
    q = parse(m.CodePaymentIn, call.body)
    backend = call.backend
    _schema(backend)
    scenario = DEMO_CODES.get(q.auth_code, Scenario("", ""))
    code_hash = _hash(q.auth_code)

    def effect(conn: sqlite3.Connection) -> tuple[int, dict]:
        order = _order(conn, q.order_no, call.terminal)
        if order["status"] == "paid":
            raise ApiError(409, "order_paid", "订单已支付", "The order is already paid")
        if order["status"] != "unpaid":
            raise ApiError(409, "order_not_payable", "订单已关闭或已过期", f"order is {order['status']}")
        latest = _latest(conn, q.order_no)
        if latest is not None and latest["status"] == "paying":
            raise ApiError(409, "payment_in_progress", "付款进行中", "A payment code is being confirmed")
        now = time.time()
        used = conn.execute("SELECT 1 FROM used_codes WHERE code_hash=?", (code_hash,)).fetchone()
        if used is not None:
            status, reason = "failed", "code_used"
        elif scenario.result == "failed":
            status, reason = "failed", scenario.reason
        elif scenario.pending:
            status, reason = "paying", ""
        else:
            status, reason = "paid", ""
        settles_at = None
        if status == "paying" and scenario.result == "paid":
            settles_at = now + PENDING_S
        conn.execute(
            "INSERT INTO code_payments (order_no, code_hash, status, reason, started_at, settles_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (q.order_no, code_hash, status, reason, now, settles_at),
        )
        if status == "paid":
            order = _pay_order(conn, order)
            conn.execute("INSERT OR IGNORE INTO used_codes VALUES (?, ?)", (code_hash, q.order_no))
        elif status == "paying":
            conn.execute("INSERT OR IGNORE INTO used_codes VALUES (?, ?)", (code_hash, q.order_no))
        return 200, _answer(order, _latest(conn, q.order_no))

    answer = idempotent(call, "pay_code", effect)
    if scenario.pending and scenario.result == "paid":
        _settle_later(backend, q.order_no, PENDING_S)
    if scenario.late:
        backend.stopping.wait(LATE_S)  # the money moved; the answer is late: the terminal gave up
    return answer


def _settle_later(backend: ReferenceBackend, order_no: str, delay_s: float) -> None:
    timer = threading.Timer(delay_s + 0.01, lambda: _settle_due(backend, order_no))
    timer.daemon = True
    timer.start()


def _settle_due(backend: ReferenceBackend, order_no: str) -> None:
    """The payer confirmed on the phone: a ``paying`` attempt whose time has come is paid,
    unless the order was closed, reversed or paid another way meanwhile."""
    store = backend.store
    with store.lock:
        if backend.stopping.is_set():
            return
        store.conn.execute("BEGIN IMMEDIATE")
        try:
            _settle_in(store.conn, order_no)
            store.conn.execute("COMMIT")
        except BaseException:
            store.conn.execute("ROLLBACK")
            raise


def _settle_in(conn: sqlite3.Connection, order_no: str) -> None:
    latest = _latest(conn, order_no)
    if latest is None or latest["status"] != "paying" or latest["settles_at"] is None:
        return
    if latest["settles_at"] > time.time():
        return
    order = payments._order_row(conn, order_no, None)
    if order is not None and order["status"] == "unpaid":
        _pay_order(conn, order)
        conn.execute("UPDATE code_payments SET status='paid' WHERE seq=?", (latest["seq"],))
    else:
        why = "order_paid" if order is not None and order["status"] == "paid" else "order_closed"
        conn.execute("UPDATE code_payments SET status='failed', reason=? WHERE seq=?", (why, latest["seq"]))


def status(call: Call) -> tuple[int, dict]:
    q = parse(m.OrderRef, call.body)
    backend = call.backend
    _schema(backend)
    store = backend.store
    with store.lock:
        store.conn.execute("BEGIN IMMEDIATE")
        try:
            _settle_in(store.conn, q.order_no)  # a timer that has not fired yet changes nothing
            order = _order(store.conn, q.order_no, call.terminal)
            answer = _answer(order, _latest(store.conn, q.order_no))
            store.conn.execute("COMMIT")
        except BaseException:
            store.conn.execute("ROLLBACK")
            raise
    return 200, answer


def reverse(call: Call) -> tuple[int, dict]:
    """撤销: the order is closed whatever its state, a ``paying`` attempt is cancelled, and a
    payment that went through is given back (its bills and contributions are due again)."""
    q = parse(m.OrderRef, call.body)
    backend = call.backend
    _schema(backend)

    def effect(conn: sqlite3.Connection) -> tuple[int, dict]:
        _settle_in(conn, q.order_no)
        order = _order(conn, q.order_no, call.terminal)
        refunded = order["status"] == "paid"
        if refunded:
            conn.execute("DELETE FROM bill_payments WHERE order_no=?", (q.order_no,))
            conn.execute("DELETE FROM contribution_payments WHERE order_no=?", (q.order_no,))
        if order["status"] in ("unpaid", "paid"):
            conn.execute("UPDATE orders SET status='closed' WHERE order_no=?", (q.order_no,))
            order["status"] = "closed"
        latest = _latest(conn, q.order_no)
        if latest is None:
            conn.execute(
                "INSERT INTO code_payments (order_no, code_hash, status, reason, started_at, refunded) "
                "VALUES (?, '', 'reversed', '', ?, ?)",
                (q.order_no, time.time(), int(refunded)),
            )
        else:
            conn.execute("UPDATE code_payments SET status='reversed', refunded=? WHERE seq=?",
                         (int(refunded or latest["refunded"]), latest["seq"]))
        return 200, _answer(order, _latest(conn, q.order_no))

    return idempotent(call, "reverse_code", effect)


def sim_codes() -> tuple[int, dict]:
    """``GET /sim/paycodes``: the demo payment codes and what each one does."""
    return 200, {"codes": [{"code": code, "label_zh": s.label_zh, "label_en": s.label_en}
                           for code, s in DEMO_CODES.items()]}
