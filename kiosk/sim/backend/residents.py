"""Resident record endpoints (参保, 缴费, 权益, 医保账户, 待遇) and social-security-card services.

The resident is named by ID number in the signed POST body, never in the URL. Card services
are backend transactions: 临时挂失 changes the card's status here, never anything on the card.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from kiosk.backend import models as m
from kiosk.identity import mask_number, mask_phone
from kiosk.sim.backend import accounts, records
from kiosk.sim.backend.api import ApiError, Call, idempotent, parse, resident
from kiosk.sim.backend.payments import paid_periods

CARD_STATUS_ZH = {"normal": "正常", "lost": "临时挂失"}


def insurance(call: Call) -> tuple[int, dict]:
    q = parse(m.ResidentQuery, call.body)
    return 200, records.insurance(resident(q.id_number), call.backend.today())


def settle(conn: Any, r: Any, rows: list[dict]) -> list[dict]:
    """What was paid through this backend overrides the derived "due" (the caller holds the lock).

    The contributions answer and the contribution certificate both go through here, so a
    resident who paid a month at the terminal sees it paid on screen and on paper alike.
    """
    paid = {s: paid_periods(conn, r, s) for s in {row["scheme"] for row in rows}}
    for row in rows:
        if row["status"] == "due" and row["period"] in paid[row["scheme"]]:
            row["status"] = "paid"
    return rows


def contributions(call: Call) -> tuple[int, dict]:
    q = parse(m.ContributionQuery, call.body)
    r = resident(q.id_number)
    answer = records.contributions(r, q.year, call.backend.today())
    store = call.backend.store
    with store.lock:
        settle(store.conn, r, answer["rows"])
    done = [x for x in answer["rows"] if x["status"] == "paid"]
    answer["total_personal_fen"] = sum(x["personal_fen"] for x in done)
    answer["total_unit_fen"] = sum(x["unit_fen"] for x in done)
    return 200, answer


def rights_record(call: Call) -> tuple[int, dict]:
    q = parse(m.ResidentQuery, call.body)
    return 200, accounts.rights_record(resident(q.id_number), call.backend.today())


def medical_account(call: Call) -> tuple[int, dict]:
    q = parse(m.YearQuery, call.body)
    r = resident(q.id_number)
    today = call.backend.today()
    acct = accounts.medical_account(r, q.year or today.year, today)
    if acct is None:
        raise ApiError(
            422,
            "no_personal_account",
            "您没有医保个人账户（仅职工医保设有个人账户）",
            "Only employee medical insurance has a personal account",
        )
    return 200, acct


def benefits(call: Call) -> tuple[int, dict]:
    q = parse(m.ResidentQuery, call.body)
    return 200, accounts.benefits(resident(q.id_number), call.backend.today())


def resident_pension(call: Call) -> tuple[int, dict]:
    q = parse(m.ResidentQuery, call.body)
    return 200, accounts.resident_pension(resident(q.id_number), call.backend.today())


def _card(conn: Any, r: Any) -> dict:
    row = conn.execute(
        "SELECT status, changed_at FROM card_status WHERE resident=?", (r.key,)
    ).fetchone()
    status, changed = (row[0], row[1]) if row else (r.card_status, r.card_lost_at)
    return {
        "masked_card_number": mask_number(r.sscard_number),
        "status": status,
        "status_zh": CARD_STATUS_ZH[status],
        "changed_at": changed,
        "masked_phone": mask_phone(r.phone),
    }


def card_status(call: Call) -> tuple[int, dict]:
    q = parse(m.CardQuery, call.body)
    r = resident(q.id_number)
    with call.backend.store.lock:
        return 200, _card(call.backend.store.conn, r)


def report_card_loss(call: Call) -> tuple[int, dict]:
    q = parse(m.CardLossIn, call.body)
    r = resident(q.id_number)

    def effect(conn: Any) -> tuple[int, dict]:
        if q.phone != r.phone:
            raise ApiError(
                422,
                "phone_mismatch",
                "手机号码与登记信息不一致，请到窗口办理",
                "The phone number does not match the one on record",
            )
        card = _card(conn, r)
        if card["status"] == "lost":
            raise ApiError(
                409, "already_lost", "该卡已处于临时挂失状态", "The card is already reported lost"
            )
        at = dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")
        conn.execute("INSERT OR REPLACE INTO card_status VALUES (?, 'lost', ?)", (r.key, at))
        return 201, _card(conn, r)

    return idempotent(call, "card_loss", effect)
