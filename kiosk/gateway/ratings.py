"""好差评 on the console: figures by item, terminal and period; the 差评 list and its follow-up.

A 差评 is a rating of 1 (非常不满意) or 2 (不满意). Each must be followed up (回访, 整改)
within 15 working days of the rating (``workdays.due_date``); the console lists the open ones
first and marks those past their date. Following up records who, when and what was done.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

from sqlalchemy import Connection, case, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from kiosk.gateway import schema as s
from kiosk.gateway import workdays

BAD = 2  # satisfaction at or below this is a 差评
LEVELS_ZH = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
LEVELS_EN = {5: "very satisfied", 4: "satisfied", 3: "fairly satisfied", 2: "dissatisfied", 1: "very dissatisfied"}


def _rated_ts(rated_at: str, fallback: float) -> float:
    """When the resident rated (the terminal's stamp), else when it arrived."""
    try:
        when = dt.datetime.fromisoformat(rated_at)
    except ValueError:
        return fallback
    return when.timestamp() if when.tzinfo else when.astimezone().timestamp()


def record_rating(conn: Connection, terminal_id: str, item: Any, now: float) -> None:
    level = item.satisfaction if isinstance(item.satisfaction, int) else None
    rated = _rated_ts(item.rated_at, now)
    due = None
    if level is not None and level <= BAD:
        due = workdays.due_date(dt.date.fromtimestamp(rated)).isoformat()
    try:
        with conn.begin_nested():
            conn.execute(insert(s.ratings).values(
                terminal_id=terminal_id, transaction_no=item.transaction_no, item_id=item.item_id,
                item_name=item.item_name, satisfaction=level, reason=item.reason,
                reason_codes=json.dumps(item.reason_codes), evaluator_masked=item.evaluator_masked,
                source=item.source, rated_at=item.rated_at, ts=rated, due=due))
    except IntegrityError:
        pass  # one rating per transaction: a second one for the same matter is not counted


def _period(start: dt.date | None, end: dt.date | None) -> list[Any]:
    r = s.ratings
    cond = []
    if start is not None:
        cond.append(r.c.ts >= dt.datetime.combine(start, dt.time()).timestamp())
    if end is not None:
        cond.append(r.c.ts < dt.datetime.combine(end + dt.timedelta(days=1), dt.time()).timestamp())
    return cond


def summary(conn: Connection, by: str, start: dt.date | None, end: dt.date | None) -> list[dict[str, Any]]:
    """Counts per level grouped by ``item`` or ``terminal``, with the satisfaction rate
    (levels 3-5 among the rated)."""
    r = s.ratings
    key = {"item": r.c.item_name, "terminal": r.c.terminal_id}[by]
    cols = [func.count().label("total"), func.count(r.c.satisfaction).label("rated")]
    cols += [func.sum(case((r.c.satisfaction == n, 1), else_=0)).label(f"l{n}") for n in range(1, 6)]
    rows = conn.execute(select(key.label("key"), *cols).where(*_period(start, end))
                        .group_by(key).order_by(key)).all()
    out = []
    for row in rows:
        levels = {n: int(getattr(row, f"l{n}") or 0) for n in range(1, 6)}
        rated = int(row.rated)
        good = levels[3] + levels[4] + levels[5]
        out.append({"key": row.key, "total": int(row.total), "rated": rated, "levels": levels,
                    "bad": levels[1] + levels[2],
                    "rate": f"{100 * good / rated:.1f}%" if rated else "-"})
    return out


def bad_list(conn: Connection, *, today: dt.date, state: str = "", start: dt.date | None = None,
             end: dt.date | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """差评 newest first; ``state``: open, overdue, done or "" for all."""
    r = s.ratings
    q = select(r, s.terminals.c.name, s.terminals.c.township).join(
        s.terminals, s.terminals.c.terminal_id == r.c.terminal_id, isouter=True
    ).where(r.c.satisfaction <= BAD, *_period(start, end))
    if state == "open":
        q = q.where(r.c.followed_up_on.is_(None))
    elif state == "overdue":
        q = q.where(r.c.followed_up_on.is_(None), r.c.due < today.isoformat())
    elif state == "done":
        q = q.where(r.c.followed_up_on.is_not(None))
    out = []
    for row in conn.execute(q.order_by(r.c.ts.desc(), r.c.id.desc()).limit(limit)):
        out.append({
            "id": row.id, "terminal_id": row.terminal_id, "terminal_name": row.name or "",
            "township": row.township or "", "transaction_no": row.transaction_no,
            "item_name": row.item_name, "satisfaction": row.satisfaction,
            "level_zh": LEVELS_ZH.get(row.satisfaction, ""), "reason": row.reason,
            "rated_at": row.rated_at[:16].replace("T", " "), "due": row.due,
            "followed_up_on": row.followed_up_on, "followed_up_by": row.followed_up_by,
            "followup_note": row.followup_note,
            "overdue": row.followed_up_on is None and bool(row.due) and row.due < today.isoformat(),
        })
    return out


def follow_up(conn: Connection, rating_id: int, *, by: str, on: dt.date, note: str) -> bool:
    r = s.ratings
    done = conn.execute(update(r).where(r.c.id == rating_id, r.c.satisfaction <= BAD)
                        .values(followed_up_on=on.isoformat(), followed_up_by=by, followup_note=note))
    return done.rowcount == 1


def _cell(value: Any) -> Any:
    # a cell starting with = + - @ is a formula to a spreadsheet program: keep it text
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_export(conn: Connection, start: dt.date | None, end: dt.date | None) -> str:
    """Every rating of the period, one row each (UTF-8 with BOM, so spreadsheet programs read
    the Chinese)."""
    r = s.ratings
    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.writer(buf)
    w.writerow(["terminal_id", "transaction_no", "item_id", "item_name", "satisfaction", "level_zh",
                "reason", "source", "rated_at", "due", "followed_up_on", "followed_up_by", "followup_note"])
    for row in conn.execute(select(r).where(*_period(start, end)).order_by(r.c.ts, r.c.id)):
        w.writerow([_cell(v) for v in (
            row.terminal_id, row.transaction_no, row.item_id, row.item_name,
            "" if row.satisfaction is None else row.satisfaction,
            LEVELS_ZH.get(row.satisfaction, "未评价"), row.reason, row.source, row.rated_at,
            row.due or "", row.followed_up_on or "", row.followed_up_by or "", row.followup_note or "",
        )])
    return buf.getvalue()
