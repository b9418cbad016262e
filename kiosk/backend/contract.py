"""Builds ``openapi.yaml``, the written contract between terminals and the backend.

The schemas come from the pydantic models both sides use (``models.py``), the operations from
the table below, so the document cannot silently disagree with the code: a test regenerates it
and compares, and schemathesis checks the running reference backend against it.

    python -m kiosk.backend.contract            # rewrite kiosk/backend/openapi.yaml
    python -m kiosk.backend.contract --check    # exit 1 if the file is out of date
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from kiosk import __version__
from kiosk.backend import models as m
from kiosk.backend.signing import H_NONCE, H_SIGNATURE, H_TERMINAL, H_TIMESTAMP, MAX_SKEW_S

PATH = Path(__file__).with_name("openapi.yaml")


@dataclass(frozen=True)
class Op:
    method: str
    path: str
    op_id: str
    summary: str
    request: type[BaseModel] | None
    response: type[BaseModel]
    tag: str
    status: int = 200
    signed: bool = True
    keyed: bool = False  # a write: needs an Idempotency-Key
    errors: tuple[int, ...] = (400, 401, 413, 422, 500, 503)
    query: dict[str, str] = field(default_factory=dict)


R = "residents"
OPS: tuple[Op, ...] = (
    Op(
        "GET",
        "/v1/health",
        "health",
        "健康检查 / health check",
        None,
        m.Health,
        "system",
        signed=False,
        errors=(500, 503),
    ),
    Op(
        "POST",
        "/v1/residents/insurance",
        "insuranceInfo",
        "参保信息 / insurance schemes",
        m.ResidentQuery,
        m.InsuranceInfo,
        R,
        errors=(400, 401, 404, 413, 422, 500, 503),
    ),
    Op(
        "POST",
        "/v1/residents/contributions",
        "contributions",
        "缴费明细（按年度）/ contributions of a year",
        m.ContributionQuery,
        m.Contributions,
        R,
        errors=(400, 401, 404, 413, 422, 500, 503),
    ),
    Op(
        "POST",
        "/v1/residents/rights-record",
        "rightsRecord",
        "个人权益记录 / rights record",
        m.ResidentQuery,
        m.RightsRecord,
        R,
        errors=(400, 401, 404, 413, 422, 500, 503),
    ),
    Op(
        "POST",
        "/v1/residents/medical-account",
        "medicalAccount",
        "医保个人账户余额及收支明细 / medical account",
        m.YearQuery,
        m.MedicalAccount,
        R,
        errors=(400, 401, 404, 413, 422, 500, 503),
    ),
    Op(
        "POST",
        "/v1/residents/benefits",
        "benefits",
        "待遇领取 / pensions being paid",
        m.ResidentQuery,
        m.Benefits,
        R,
        errors=(400, 401, 404, 413, 422, 500, 503),
    ),
    Op(
        "POST",
        "/v1/residents/resident-pension",
        "residentPension",
        "城乡居民养老缴费及待遇 / resident pension",
        m.ResidentQuery,
        m.ResidentPension,
        R,
        errors=(400, 401, 404, 413, 422, 500, 503),
    ),
    Op(
        "POST",
        "/v1/cards/status",
        "cardStatus",
        "社会保障卡状态 / social-security card status",
        m.CardQuery,
        m.CardStatus,
        "cards",
        errors=(400, 401, 404, 413, 422, 500, 503),
    ),
    Op(
        "POST",
        "/v1/cards/report-loss",
        "reportCardLoss",
        "社会保障卡临时挂失（手机号确认）/ report the card lost",
        m.CardLossIn,
        m.CardStatus,
        "cards",
        status=201,
        keyed=True,
        errors=(400, 401, 404, 409, 413, 422, 500, 503),
    ),
    Op(
        "POST",
        "/v1/bills/query",
        "billQuery",
        "水费/电费/燃气费账单查询 / utility bills",
        m.BillQuery,
        m.BillStatement,
        "payments",
        errors=(400, 401, 404, 413, 422, 500, 503),
    ),
    Op(
        "POST",
        "/v1/contributions/options",
        "contributionOptions",
        "可缴年度与缴费档次 / contribution years and grades",
        m.ContributionOptionsQuery,
        m.ContributionOptions,
        "payments",
        errors=(400, 401, 404, 413, 422, 500, 503),
    ),
    Op(
        "POST",
        "/v1/orders",
        "createOrder",
        "创建支付订单（返回二维码内容）/ create a payment order",
        m.OrderIn,
        m.Order,
        "payments",
        status=201,
        keyed=True,
        errors=(400, 401, 404, 409, 413, 422, 500, 503),
    ),
    Op(
        "POST",
        "/v1/orders/status",
        "orderStatus",
        "订单状态（对账）/ order status",
        m.OrderRef,
        m.Order,
        "payments",
        errors=(400, 401, 404, 413, 422, 500, 503),
    ),
    Op(
        "POST",
        "/v1/orders/close",
        "closeOrder",
        "关闭未支付订单 / close an unpaid order",
        m.OrderRef,
        m.Order,
        "payments",
        keyed=True,
        errors=(400, 401, 404, 409, 413, 422, 500, 503),
    ),
    Op(
        "POST",
        "/v1/certificates",
        "issueCertificate",
        "出具证明（含验证码）/ issue a certificate",
        m.CertificateRequest,
        m.Certificate,
        "certificates",
        status=201,
        keyed=True,
        errors=(400, 401, 404, 409, 413, 422, 500, 503),
    ),
    Op(
        "GET",
        "/v1/certificates/verify",
        "verifyCertificate",
        "证明验真 / verify a certificate code",
        None,
        m.CertificateCheck,
        "certificates",
        signed=False,
        errors=(404, 500, 503),
        query={"code": "the verification code printed on the certificate"},
    ),
    Op(
        "POST",
        "/v1/ratings",
        "rating",
        "好差评 / service rating",
        m.RatingIn,
        m.Accepted,
        "outbox",
        status=201,
        keyed=True,
        errors=(400, 401, 409, 413, 422, 500, 503),
    ),
    Op(
        "POST",
        "/v1/transactions",
        "transaction",
        "办件记录 / completed transaction",
        m.TransactionIn,
        m.Accepted,
        "outbox",
        status=201,
        keyed=True,
        errors=(400, 401, 409, 413, 422, 500, 503),
    ),
    Op(
        "POST",
        "/v1/device-events",
        "deviceEvent",
        "设备事件 / device event",
        m.DeviceEventIn,
        m.Accepted,
        "outbox",
        status=201,
        keyed=True,
        errors=(400, 401, 409, 413, 422, 500, 503),
    ),
    Op(
        "POST",
        "/v1/help-requests",
        "helpRequest",
        "帮办代办回电申请 / help callback request",
        m.HelpRequestIn,
        m.Accepted,
        "outbox",
        status=201,
        keyed=True,
        errors=(400, 401, 409, 413, 422, 500, 503),
    ),
    Op(
        "POST",
        "/v1/audit",
        "audit",
        "管理操作审计 / admin audit entry",
        m.AuditIn,
        m.Accepted,
        "outbox",
        status=201,
        keyed=True,
        errors=(400, 401, 409, 413, 422, 500, 503),
    ),
    Op(
        "POST",
        "/v1/heartbeat",
        "heartbeat",
        "终端心跳 / terminal heartbeat",
        m.HeartbeatIn,
        m.Accepted,
        "outbox",
        status=201,
        keyed=True,
        errors=(400, 401, 409, 413, 422, 500, 503),
    ),
)

#: 24-hour 自助申办: files in chunks, the application, its progress, the 电子证照 held
APPLY = "applications"
OPS += (
    Op("POST", "/v1/residents/licences", "licences", "电子证照目录 / electronic licences held", m.LicenceQuery,
       m.Licences, R, errors=(400, 401, 404, 413, 422, 500, 503)),
    Op("POST", "/v1/applications/uploads", "openUpload", "申请材料上传（开始或续传）/ open or resume an upload",
       m.UploadOpen, m.UploadStatus, APPLY, keyed=True, errors=(400, 401, 409, 413, 422, 500, 503)),
    Op("POST", "/v1/applications/chunks", "putChunk", "上传材料分块 / one chunk of a file", m.ChunkIn,
       m.UploadStatus, APPLY, keyed=True, errors=(400, 401, 404, 409, 413, 422, 500, 503)),
    Op("POST", "/v1/applications", "submitApplication", "提交申请，返回办件编号 / submit, get the case number",
       m.ApplicationIn, m.ApplicationAccepted, APPLY, status=201, keyed=True,
       errors=(400, 401, 404, 409, 413, 422, 500, 503)),
    Op("POST", "/v1/applications/progress", "applicationProgress", "办件进度（本人）/ progress by ID number",
       m.ProgressQuery, m.ProgressList, APPLY),
    Op("POST", "/v1/applications/progress-by-code", "applicationProgressByCode",
       "办件进度（回执二维码）/ progress by the receipt's code", m.ProgressCodeQuery, m.ApplicationProgress, APPLY,
       errors=(400, 401, 404, 413, 422, 500, 503)),
    Op("POST", "/v1/applications/by-point", "pointApplications", "网点办件（帮办代办）/ applications of a point",
       m.PointQuery, m.PointApplications, APPLY),
    Op("GET", "/v1/applications/track", "trackApplication", "办件进度公开查询 / public progress page",
       None, m.ApplicationProgress, APPLY, signed=False, errors=(404, 422, 500, 503),
       query={"code": "the code on the 受理回执's QR"}),
)

DESCRIPTION = f"""\
What a 政务服务自助终端 asks of the government service platform, and what it sends.

* **Signed requests.** Every operation except the two public GETs carries
  `{H_TERMINAL}`, `{H_TIMESTAMP}` (unix seconds), `{H_NONCE}` (8-64 characters, never reused)
  and `{H_SIGNATURE}`: hex HMAC-SHA256 with the terminal's secret over the lines
  `HMAC-SHA256`, method, path with query, terminal id, timestamp, nonce, idempotency key (or
  empty) and the hex SHA-256 of the body, joined by newlines. Timestamps more than
  {MAX_SKEW_S} s from the server clock and replayed nonces are refused (401).
* **No personal data in URLs.** ID numbers, names and phone numbers travel only in signed POST
  bodies, because URLs end up in logs. Answers carry masked names and ID numbers.
* **Idempotent writes.** Every write carries an `Idempotency-Key`; the same key always gets the
  same answer and has one effect. The same key with a different body is refused (409).
* **One error shape**, for every error: `{{"error": {{"code", "message_zh", "message_en",
  "retryable"}}}}`. 5xx answers are always retryable.
* Amounts are integers in fen (分). Times are ISO 8601 with offset.
"""


def _error_response() -> dict[str, Any]:
    return {
        "description": "error, in the one error shape",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
    }


def build() -> dict[str, Any]:
    models: list[type[BaseModel]] = [m.ErrorEnvelope]
    for op in OPS:
        models += [x for x in (op.request, op.response) if x is not None]
    unique = list(dict.fromkeys(models))
    _, defs = models_json_schema(
        [(model, "validation") for model in unique], ref_template="#/components/schemas/{model}"
    )
    schemas = defs.get("$defs", {})
    security_schemes = {
        name: {"type": "apiKey", "in": "header", "name": header}
        for name, header in (
            ("terminal", H_TERMINAL),
            ("timestamp", H_TIMESTAMP),
            ("nonce", H_NONCE),
            ("signature", H_SIGNATURE),
        )
    }
    paths: dict[str, Any] = {}
    for op in OPS:
        entry: dict[str, Any] = {"operationId": op.op_id, "summary": op.summary, "tags": [op.tag]}
        params = [
            {
                "name": k,
                "in": "query",
                "required": True,
                "description": v,
                "schema": {"type": "string", "maxLength": 64},
            }
            for k, v in op.query.items()
        ]
        if op.keyed:
            params.append(
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": True,
                    "description": "client-generated; the same key always gets the same answer and has one effect",
                    "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,128}$"},
                }
            )
        if params:
            entry["parameters"] = params
        if op.request is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{op.request.__name__}"}
                    }
                },
            }
        entry["security"] = [{k: [] for k in security_schemes}] if op.signed else []
        responses: dict[str, Any] = {
            str(op.status): {
                "description": "OK",
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{op.response.__name__}"}
                    }
                },
            }
        }
        for code in op.errors:
            responses[str(code)] = _error_response()
        entry["responses"] = responses
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "政务服务自助终端 backend API",
            "version": __version__,
            "description": DESCRIPTION,
        },
        "servers": [
            {
                "url": "http://127.0.0.1:8765",
                "description": "reference backend (kiosk backend serve)",
            }
        ],
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": security_schemes},
    }


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    # multi-line text (the description) stays readable as a block
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def render() -> str:
    header = "# Generated by `python -m kiosk.backend.contract` from kiosk/backend/models.py. Do not edit.\n"
    return header + yaml.dump(
        build(), Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=110
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if openapi.yaml is out of date"
    )
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = PATH.read_text(encoding="utf-8") if PATH.exists() else ""
        if current != text:
            print(f"{PATH} is out of date: run python -m kiosk.backend.contract", file=sys.stderr)
            return 1
        return 0
    PATH.write_text(text, encoding="utf-8")
    print(f"wrote {PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
