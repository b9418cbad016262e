"""The reference backend's endpoints: pure functions from a validated request to an answer.

``server.py`` does the HTTP, signing and faults; here each route gets the backend, the
terminal id, the parsed body and the idempotency key, and returns (status, answer) or raises
``ApiError``. Writes run inside ``ReferenceStore.idempotent`` so each key has one effect.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from kiosk import __version__
from kiosk.backend import models as m
from kiosk.backend.reference import records
from kiosk.demo_data import DemoResident, by_id_number
from kiosk.identity import mask_id_number, mask_name

if TYPE_CHECKING:
    from kiosk.backend.reference.server import ReferenceBackend


class ApiError(Exception):
    def __init__(self, status: int, code: str, zh: str, en: str, retryable: bool = False) -> None:
        super().__init__(code)
        self.status, self.code, self.zh, self.en, self.retryable = status, code, zh, en, retryable

    def body(self) -> dict[str, Any]:
        return m.error_body(self.code, self.zh, self.en, self.retryable)


@dataclass
class Call:
    backend: ReferenceBackend
    terminal: str
    body: dict[str, Any]
    key: str
    query: dict[str, str]
    path_args: tuple[str, ...] = ()


def parse(model: type[BaseModel], body: dict[str, Any]) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError as e:
        fields = ", ".join(".".join(str(p) for p in err["loc"]) or "body" for err in e.errors())
        raise ApiError(
            422, "invalid_request", "请求内容有误", f"invalid fields: {fields}", False
        ) from None


def resident(id_number: str) -> DemoResident:
    r = by_id_number(id_number)
    if r is None:
        raise ApiError(404, "resident_not_found", "未查询到您的参保信息", "No records found for this person")
    return r


def need_key(call: Call) -> str:
    if not call.key:
        raise ApiError(400, "idempotency_key_required", "请求缺少幂等键", "Idempotency-Key header required")
    return call.key


def body_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# --- reads -----------------------------------------------------------------------------------


def health(call: Call) -> tuple[int, dict]:
    now = dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")
    return 200, {"status": "ok", "time": now, "version": __version__}


def insurance(call: Call) -> tuple[int, dict]:
    q = parse(m.ResidentQuery, call.body)
    return 200, records.insurance(resident(q.id_number), call.backend.today())


def contributions(call: Call) -> tuple[int, dict]:
    q = parse(m.ContributionQuery, call.body)
    return 200, records.contributions(resident(q.id_number), q.year, call.backend.today())


# --- certificates ------------------------------------------------------------------------------


def _verification_code(secret: bytes, certificate_no: str) -> str:
    raw = hmac.new(secret, certificate_no.encode(), hashlib.sha256).hexdigest().upper()
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def contribution_proof(r: DemoResident, today: dt.date) -> dict[str, Any]:
    info = records.insurance(r, today)
    if not info["insured"]:
        raise ApiError(
            422, "not_insured", "未查询到您的参保记录，无法出具证明", "No insurance on record: no proof can be issued"
        )
    rows = []
    for s in info["schemes"]:
        months = records.months_paid(r, s["scheme"], today)
        rows.append([s["name_zh"], s["status_zh"], s["start"], str(months)])
    return {
        "title": m.CERTIFICATE_KINDS["contribution_proof"],
        "lines": [
            ("姓名", mask_name(r.name)),
            ("证件号码", mask_id_number(r.id_number)),
            ("参保地", "宁阳县" if r.area == "370921" else "泰安市"),
        ],
        "table_header": ["险种", "参保状态", "参保年月", "累计缴费月数"],
        "table_rows": rows,
        "footer": ["本证明仅证明打印之日前的参保缴费情况", "可扫描二维码或登录核验平台输入验证码核验真伪"],
    }


#: kind -> document builder; the others arrive with the rest of the contract
DOCUMENTS: dict[str, Callable[[DemoResident, dt.date], dict[str, Any]]] = {
    "contribution_proof": contribution_proof,
}


def certificate(call: Call) -> tuple[int, dict]:
    q = parse(m.CertificateRequest, call.body)
    need_key(call)
    r = resident(q.id_number)
    build = DOCUMENTS.get(q.kind)
    if build is None:
        raise ApiError(
            422, "kind_unavailable", "该证明暂不支持自助打印", f"certificate kind {q.kind} is not issued here"
        )
    backend = call.backend
    today = backend.today()

    def effect(conn: Any) -> tuple[int, dict]:
        doc = build(r, today)  # may raise ApiError before anything is written
        seq = conn.execute("SELECT COUNT(*) FROM certificates").fetchone()[0] + 1
        certificate_no = f"ZM{today:%Y%m%d}{seq:06d}"
        code = _verification_code(backend.signing_secret, certificate_no)
        issued_at = dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")
        document = {
            "title": doc["title"],
            "holder_masked_name": mask_name(r.name),
            "holder_masked_id": mask_id_number(r.id_number),
            "issued_at": issued_at,
            "lines": doc["lines"],
            "table_header": doc.get("table_header", []),
            "table_rows": doc.get("table_rows", []),
            "footer": doc.get("footer", []),
        }
        conn.execute(
            "INSERT INTO certificates VALUES (?, ?, ?, ?, ?, ?, ?)",
            (certificate_no, code, q.kind, r.key, call.terminal, issued_at, json.dumps(document, ensure_ascii=False)),
        )
        return 201, {
            "certificate_no": certificate_no,
            "kind": q.kind,
            "verification_code": code,
            "verify_url": f"{backend.public_url}/v1/certificates/verify?code={code}",
            "document": document,
        }

    return _idempotent(call, "certificate", effect)


def verify_certificate(call: Call) -> tuple[int, dict]:
    code = call.query.get("code", "")
    with call.backend.store.lock:
        row = call.backend.store.conn.execute(
            "SELECT certificate_no, kind, issued_at, document FROM certificates WHERE verification_code = ?",
            (code,),
        ).fetchone()
    if row is None:
        raise ApiError(404, "certificate_not_found", "验证码无效", "No certificate with this code")
    doc = json.loads(row[3])
    return 200, {"valid": True, "certificate_no": row[0], "kind": row[1], "issued_at": row[2],
                 "title": doc["title"], "holder_masked_name": doc["holder_masked_name"]}


# --- outbox deliveries -------------------------------------------------------------------------


def _idempotent(call: Call, route: str, effect: Callable[[Any], tuple[int, dict]]) -> tuple[int, dict]:
    from kiosk.backend.reference.store import IdempotencyConflict

    try:
        status, answer, _replayed = call.backend.store.idempotent(
            call.terminal, need_key(call), route, body_hash(call.body), effect
        )
    except IdempotencyConflict:
        raise ApiError(
            409, "idempotency_conflict", "重复请求内容不一致", "Idempotency key reused for a different request"
        ) from None
    return status, answer


def delivery(kind: str) -> Callable[[Call], tuple[int, dict]]:
    _path, model = m.DELIVERY[kind]

    def handle(call: Call) -> tuple[int, dict]:
        item = parse(model, call.body)
        key = need_key(call)
        store = call.backend.store

        def effect(conn: Any) -> tuple[int, dict]:
            at = store.add_received(conn, kind, call.terminal, key, item.model_dump(mode="json"))
            return 201, {"accepted": True, "kind": kind, "idempotency_key": key, "received_at": at}

        return _idempotent(call, kind, effect)

    return handle


ROUTES: dict[tuple[str, str], Callable[[Call], tuple[int, dict]]] = {
    ("GET", "/v1/health"): health,
    ("POST", "/v1/residents/insurance"): insurance,
    ("POST", "/v1/residents/contributions"): contributions,
    ("POST", "/v1/certificates"): certificate,
    ("GET", "/v1/certificates/verify"): verify_certificate,
} | {("POST", path): delivery(kind) for kind, (path, _model) in m.DELIVERY.items()}

#: routes anyone may call without a terminal signature (no personal data behind them)
UNSIGNED = {("GET", "/v1/health"), ("GET", "/v1/certificates/verify")}
