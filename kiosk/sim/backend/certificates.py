"""Certificates (证明) the terminal prints, each with a verification code anyone can check.

A certificate is issued once per idempotency key: a terminal that lost the answer and asks
again gets the same certificate number and code, so a reprint is a copy, never a second
certificate. The code is an HMAC of the certificate number with the server's own secret.
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
from kiosk.sim.backend import accounts, records
from kiosk.sim.backend.api import ApiError, Call, idempotent, parse, resident
from kiosk.sim.demo_data import DemoResident

FOOTER = ["本证明仅证明打印之日前的情况", "可扫描二维码或登录核验平台输入验证码核验真伪"]


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _holder(r: DemoResident) -> list[tuple[str, str]]:
    return [("姓名", mask_name(r.name)), ("证件号码", mask_id_number(r.id_number))]


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


def contribution_proof(r: DemoResident, today: dt.date, year: int | None) -> dict[str, Any]:
    info = _insured_or_refuse(r, today)
    rows = [
        [s["name_zh"], s["status_zh"], s["start"], str(records.months_paid(r, s["scheme"], today))]
        for s in info["schemes"]
    ]
    return {
        "lines": _holder(r) + [("参保地", "宁阳县" if r.area == "370921" else "泰安市")],
        "table_header": ["险种", "参保状态", "参保年月", "累计缴费月数"],
        "table_rows": rows,
    }


def rights_record(r: DemoResident, today: dt.date, year: int | None) -> dict[str, Any]:
    _insured_or_refuse(r, today)
    rec = accounts.rights_record(r, today)
    rows = [
        [
            s["scheme_zh"],
            str(s["months_paid"]),
            _yuan(s["personal_account_fen"]),
            s["last_paid"] or "-",
        ]
        for s in rec["schemes"]
    ]
    return {
        "lines": _holder(r) + [("记录截至", rec["as_of"])],
        "table_header": ["险种", "累计月数", "个人账户(元)", "最近缴费"],
        "table_rows": rows,
    }


def benefit_proof(r: DemoResident, today: dt.date, year: int | None) -> dict[str, Any]:
    b = accounts.benefits(r, today)
    if not b["receiving"]:
        raise ApiError(422, "not_receiving", "未查询到您的待遇领取记录", "No benefit is being paid")
    ben = b["benefits"][0]
    rows = [[p["period"], _yuan(p["amount_fen"]), p["paid_on"]] for p in ben["payments"][-6:]]
    return {
        "lines": _holder(r)
        + [
            ("待遇类别", f"{ben['scheme_zh']} {ben['kind_zh']}"),
            ("领取起始年月", ben["since"]),
            ("月待遇(元)", _yuan(ben["monthly_fen"])),
        ],
        "table_header": ["发放年月", "金额(元)", "发放日期"],
        "table_rows": rows,
    }


def medical_contribution_proof(r: DemoResident, today: dt.date, year: int | None) -> dict[str, Any]:
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
                    _yuan(sum(x["personal_fen"] for x in paid)),
                ]
            )
    return {
        "lines": _holder(r)
        + [("险种", s["name_zh"]), ("参保状态", s["status_zh"]), ("参保起始", s["start"])],
        "table_header": ["年度", "缴费月数", "个人缴费(元)"],
        "table_rows": rows,
    }


def medical_settlement(r: DemoResident, today: dt.date, year: int | None) -> dict[str, Any]:
    year = year or today.year
    items = accounts.settlements(r, year, today)
    if not items:
        raise ApiError(
            422, "no_settlements", f"{year}年度无统筹费用结算记录", f"No settlements in {year}"
        )
    rows = [
        [
            x["date"],
            x["hospital"],
            _yuan(x["total_fen"]),
            _yuan(x["fund_fen"]),
            _yuan(x["personal_fen"]),
        ]
        for x in items
    ]
    total = sum(x["fund_fen"] for x in items)
    return {
        "lines": _holder(r) + [("结算年度", str(year)), ("统筹支付合计(元)", _yuan(total))],
        "table_header": ["日期", "医疗机构", "总费用", "统筹支付", "个人负担"],
        "table_rows": rows,
    }


DOCUMENTS: dict[str, Callable[[DemoResident, dt.date, int | None], dict[str, Any]]] = {
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
        doc = DOCUMENTS[q.kind](r, today, q.year)  # may refuse before anything is written
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
