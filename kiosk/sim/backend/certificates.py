"""Certificates (证明) the terminal prints, each with a verification code anyone can check.

A certificate is issued once per idempotency key: a terminal that lost the answer and asks
again gets the same certificate number and code, so a reprint is a copy, never a second
certificate. The code is an HMAC of the certificate number with the server's own secret.

The document names its holder masked (``holder_masked_*``); the terminal prints the holder it
identified above the lines, as a counter does. This platform is a simulation, so every
document it issues says so (``specimen``): the seal printed on it reads 样章.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

from kiosk.backend import models as m
from kiosk.identity import mask_id_number, mask_name
from kiosk.money import yuan
from kiosk.sim.backend import accounts, records, residents
from kiosk.sim.backend.api import ApiError, Call, idempotent, parse, resident
from kiosk.sim.demo_data import DemoResident

FOOTER = ["本证明仅证明打印之日前的情况"]
AREA_NAMES = {"370921": "宁阳县", "370911": "泰安市岱岳区", "370902": "泰安市泰山区"}
ISSUING_BODY = {"social": "社会保险事业中心", "medical": "医疗保障局"}
MEDICAL_KINDS = {"medical_contribution_proof", "medical_settlement"}
STATUS_ZH = {"paid": "已缴", "due": "待缴", "arrears": "欠缴"}  # the words kiosk.services.bill_status uses
MAX_MONTHS = m.CERTIFICATE_MAX_MONTHS


def _area(r: DemoResident) -> str:
    return AREA_NAMES.get(r.area, "泰安市")


def _insured_or_refuse(r: DemoResident, today: dt.date) -> dict:
    info = records.insurance(r, today)
    if not info["insured"]:
        raise ApiError(
            422,
            "not_insured",
            "未查询到您的参保记录，无法出具证明",
            "No insurance on record: no proof can be issued",
        )
    return info


def contribution_proof(r: DemoResident, today: dt.date, q: Any, conn: Any) -> dict[str, Any]:
    """One scheme's contributions month by month over the range the resident chose."""
    info = _insured_or_refuse(r, today)
    schemes = {s["scheme"]: s for s in info["schemes"]}
    scheme = q.scheme or info["schemes"][0]["scheme"]
    if scheme not in schemes:
        raise ApiError(422, "not_insured", "您未参加所选险种", "Not insured in the chosen scheme")
    s = schemes[scheme]
    start, end = (q.period_from, q.period_to) if q.period_from else records.default_range(r, scheme, today)
    if (q.period_from is None) != (q.period_to is None) or not 1 <= m.months_between(start, end) <= MAX_MONTHS:
        raise ApiError(422, "bad_period", "起止年月有误", f"period_from..period_to: 1 to {MAX_MONTHS} months")
    rows = residents.settle(conn, r, records.scheme_rows(r, scheme, start, end, today))
    paid = sum(x["personal_fen"] for x in rows if x["status"] == "paid")
    due = sum(x["personal_fen"] for x in rows if x["status"] != "paid")
    return {
        "lines": [
            ("参保地", _area(r)),
            ("险种", s["name_zh"]),
            ("参保状态", s["status_zh"]),
            ("参保起始年月", s["start"]),
            ("累计缴费月数", f"{records.months_paid(r, scheme, today)}个月"),
            ("缴费起止年月", f"{start}至{end}"),
            ("个人缴费合计", yuan(paid)),
            ("应缴未缴", yuan(due)),
            *((("参保单位", s["unit"]),) if s.get("unit") else ()),  # last: the sums share a row
        ],
        "table_header": ["年月", "个人缴费", "状态"],
        "table_rows": [[x["period"], yuan(x["personal_fen"]), STATUS_ZH[x["status"]]] for x in rows],
    }


def rights_record(r: DemoResident, today: dt.date, q: Any, conn: Any) -> dict[str, Any]:
    _insured_or_refuse(r, today)
    rec = accounts.rights_record(r, today)
    rows = [
        [
            s["scheme_zh"],
            str(s["months_paid"]),
            yuan(s["personal_account_fen"]),
            s["last_paid"] or "-",
        ]
        for s in rec["schemes"]
    ]
    return {
        "lines": [("记录截至", rec["as_of"])],
        "table_header": ["险种", "累计月数", "个人账户", "最近缴费"],
        "table_rows": rows,
    }


def benefit_proof(r: DemoResident, today: dt.date, q: Any, conn: Any) -> dict[str, Any]:
    b = accounts.benefits(r, today)
    if not b["receiving"]:
        raise ApiError(422, "not_receiving", "未查询到您的待遇领取记录", "No benefit is being paid")
    ben = b["benefits"][0]
    rows = [[p["period"], yuan(p["amount_fen"]), p["paid_on"]] for p in ben["payments"][-6:]]
    return {
        "lines": [
            ("待遇类别", f"{ben['scheme_zh']} {ben['kind_zh']}"),
            ("领取起始年月", ben["since"]),
            ("月待遇", yuan(ben["monthly_fen"])),
        ],
        "table_header": ["发放年月", "金额", "发放日期"],
        "table_rows": rows,
    }


def medical_contribution_proof(r: DemoResident, today: dt.date, q: Any, conn: Any) -> dict[str, Any]:
    info = _insured_or_refuse(r, today)
    medical = [s for s in info["schemes"] if s["scheme"].startswith("medical")]
    if not medical:
        raise ApiError(
            422, "not_insured", "未查询到您的医保参保记录", "No medical insurance on record"
        )
    s = medical[0]
    rows = []
    for y in records.contribution_years(r, today)[-3:]:
        paid = [
            x
            for x in records.contribution_rows(r, y, today)
            if x["scheme"] == s["scheme"] and x["status"] == "paid"
        ]
        if paid:
            rows.append(
                [
                    str(y),
                    str(12 if s["scheme"] in records.ANNUAL else len(paid)),
                    yuan(sum(x["personal_fen"] for x in paid)),
                ]
            )
    return {
        "lines": [("险种", s["name_zh"]), ("参保状态", s["status_zh"]), ("参保起始", s["start"])],
        "table_header": ["年度", "缴费月数", "个人缴费"],
        "table_rows": rows,
    }


def medical_settlement(r: DemoResident, today: dt.date, q: Any, conn: Any) -> dict[str, Any]:
    year = q.year or today.year
    items = accounts.settlements(r, year, today)
    if not items:
        raise ApiError(
            422, "no_settlements", f"{year}年度无统筹费用结算记录", f"No settlements in {year}"
        )
    rows = [
        [
            x["date"],
            x["hospital"],
            yuan(x["total_fen"]),
            yuan(x["fund_fen"]),
            yuan(x["personal_fen"]),
        ]
        for x in items
    ]
    total = sum(x["fund_fen"] for x in items)
    return {
        "lines": [("结算年度", str(year)), ("统筹支付合计", yuan(total))],
        "table_header": ["日期", "医疗机构", "总费用", "统筹支付", "个人负担"],
        "table_rows": rows,
    }


DOCUMENTS: dict[str, Callable[[DemoResident, dt.date, Any, Any], dict[str, Any]]] = {
    "contribution_proof": contribution_proof,
    "rights_record": rights_record,
    "benefit_proof": benefit_proof,
    "medical_contribution_proof": medical_contribution_proof,
    "medical_settlement": medical_settlement,
}
assert set(DOCUMENTS) == set(m.CERTIFICATE_KINDS)


def verification_code(secret: bytes, certificate_no: str) -> str:
    raw = hmac.new(secret, certificate_no.encode(), hashlib.sha256).hexdigest().upper()
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def issue(call: Call) -> tuple[int, dict]:
    q = parse(m.CertificateRequest, call.body)
    r = resident(q.id_number)
    backend = call.backend
    today = backend.today()

    def effect(conn: Any) -> tuple[int, dict]:
        doc = DOCUMENTS[q.kind](r, today, q, conn)  # may refuse before anything is written
        seq = conn.execute("SELECT COUNT(*) FROM certificates").fetchone()[0] + 1
        certificate_no = f"ZM{today:%Y%m%d}{seq:06d}"
        code = verification_code(backend.signing_secret, certificate_no)
        issued_at = dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")
        document = {
            "title": m.CERTIFICATE_KINDS[q.kind],
            "holder_masked_name": mask_name(r.name),
            "holder_masked_id": mask_id_number(r.id_number),
            "issued_at": issued_at,
            "lines": doc["lines"],
            "table_header": doc.get("table_header", []),
            "table_rows": doc.get("table_rows", []),
            "footer": FOOTER,
            "issuer": _area(r) + ISSUING_BODY["medical" if q.kind in MEDICAL_KINDS else "social"],
            "specimen": True,
        }
        conn.execute(
            "INSERT INTO certificates VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                certificate_no,
                code,
                q.kind,
                r.key,
                call.terminal,
                issued_at,
                json.dumps(document, ensure_ascii=False),
            ),
        )
        return 201, {
            "certificate_no": certificate_no,
            "kind": q.kind,
            "verification_code": code,
            "verify_url": f"{backend.public_url}/v1/certificates/verify?code={code}",
            "document": document,
        }

    return idempotent(call, "certificate", effect)


def verify(call: Call) -> tuple[int, dict]:
    code = call.query.get("code", "")
    with call.backend.store.lock:
        row = call.backend.store.conn.execute(
            "SELECT certificate_no, kind, issued_at, document FROM certificates WHERE verification_code = ?",
            (code,),
        ).fetchone()
    if row is None:
        raise ApiError(404, "certificate_not_found", "验证码无效", "No certificate with this code")
    doc = json.loads(row[3])
    return 200, {
        "valid": True,
        "certificate_no": row[0],
        "kind": row[1],
        "issued_at": row[2],
        "title": doc["title"],
        "holder_masked_name": doc["holder_masked_name"],
    }
