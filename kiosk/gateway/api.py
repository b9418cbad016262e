"""The terminal API under ``/v1``: the contract (``kiosk/backend/openapi.yaml``) is generated
from these routes and the pydantic models in ``kiosk.backend.models``.

Each route says whether it is signed, whether it needs an idempotency key and its body limit
(``op``); the guard (``guard.py``) enforces those before the route runs. Resident matters go
to the platform adapter; what terminals deliver is kept here.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy import text

from kiosk import __version__
from kiosk.backend import models as m
from kiosk.backend.signing import H_IDEMPOTENCY
from kiosk.gateway import fleet
from kiosk.gateway.adapter import Ctx
from kiosk.gateway.errors import ApiError
from kiosk.gateway.guard import Op
from kiosk.gateway.store import IdempotencyConflict, InProgress, now_iso
from kiosk.validation import fields

if TYPE_CHECKING:
    from kiosk.gateway.app import Gateway

router = APIRouter()
#: (method, path) -> what the guard enforces
OPS: dict[tuple[str, str], Op] = {}
#: (method, path) -> operation id, in the order declared
OPERATION_IDS: dict[tuple[str, str], str] = {}

ERRORS = (400, 401, 404, 413, 422, 500, 502, 503)
WRITE_ERRORS = (400, 401, 404, 409, 413, 422, 500, 502, 503)
DELIVERY_ERRORS = (400, 401, 409, 413, 422, 500, 502, 503)


def _responses(codes: tuple[int, ...]) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": m.ErrorEnvelope, "description": "error, in the one error shape"} for code in codes}


def op(method: str, path: str, op_id: str, summary: str, response: type[BaseModel], tag: str, *,
       status: int = 200, signed: bool = True, keyed: bool = False, errors: tuple[int, ...] = ERRORS,
       max_body: int | None = None) -> Callable:
    """Declare a route: FastAPI documents it, the guard enforces ``signed``/``keyed``/``max_body``."""
    OPS[(method, path)] = Op(signed=signed, keyed=keyed, **({"max_body": max_body} if max_body else {}))
    OPERATION_IDS[(method, path)] = op_id
    extra: dict[str, Any] = {"security": [{"terminal": [], "timestamp": [], "nonce": [], "signature": []}]
                             if signed else []}
    if keyed:
        extra["parameters"] = [{
            "name": H_IDEMPOTENCY, "in": "header", "required": True,
            "description": "client-generated; the same key always gets the same answer and has one effect",
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,128}$"},
        }]
    return router.api_route(path, methods=[method], operation_id=op_id, summary=summary, tags=[tag],
                            status_code=status, response_model=response, responses=_responses(errors),
                            openapi_extra=extra)


def gw(request: Request) -> Gateway:
    return request.app.state.gateway


def ctx(request: Request) -> Ctx:
    return Ctx(terminal=request.state.terminal, key=request.headers.get(H_IDEMPOTENCY, ""),
               base_url=gw(request).public_url)


def checked(model: type[BaseModel], answer: dict[str, Any], what: str) -> dict[str, Any]:
    """The platform's answer, if it follows the contract; otherwise a 502 (the terminal must
    not be handed garbage; whether the platform is fixed later, only it can tell)."""
    try:
        model.model_validate(answer)
    except ValidationError as e:
        raise ApiError(502, "platform_bad_answer", "服务暂不可用，请稍后再试",
                       f"{what}: the platform's answer does not follow the contract ({fields(e, most=5)})",
                       True) from None
    return answer


def read(request: Request, method: str, q: BaseModel, model: type[BaseModel]) -> JSONResponse:
    answer = getattr(gw(request).platform, method)(ctx(request), q)
    return JSONResponse(checked(model, answer, method))


def write(request: Request, method: str, q: BaseModel, model: type[BaseModel], status: int = 201) -> JSONResponse:
    """A write on the platform, once per idempotency key across every gateway process."""
    g, c = gw(request), ctx(request)

    def effect() -> tuple[int, dict[str, Any]]:
        try:
            return status, checked(model, getattr(g.platform, method)(c, q), method)
        except ApiError as e:
            return e.status, e.body()  # 4xx refusals are stored too: same request, same answer

    code, answer = keyed(lambda: g.store.remote_write(c.terminal, c.key, method, request.state.json, effect))
    return JSONResponse(answer, code)


def keyed(run: Callable[[], tuple[int, dict[str, Any]]]) -> tuple[int, dict[str, Any]]:
    try:
        return run()
    except IdempotencyConflict:
        raise ApiError(409, "idempotency_conflict", "重复请求内容不一致",
                       "Idempotency key reused for a different request") from None
    except InProgress:
        raise ApiError(409, "request_in_progress", "请求处理中，请稍后",
                       "A request with this idempotency key is being applied", True) from None


# --- system ------------------------------------------------------------------------------------


@op("GET", "/v1/health", "health", "健康检查 / health check", m.Health, "system", signed=False,
    errors=(500, 503))
def health(request: Request) -> JSONResponse:
    try:
        with gw(request).store.read() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as e:  # noqa: BLE001 - any database trouble is "not healthy"
        raise ApiError(503, "database_unavailable", "服务暂不可用", f"database: {type(e).__name__}", True) from None
    return JSONResponse({"status": "ok", "time": now_iso(gw(request).clock()), "version": __version__})


# --- residents -----------------------------------------------------------------------------------

R = "residents"


@op("POST", "/v1/residents/insurance", "insuranceInfo", "参保信息 / insurance schemes", m.InsuranceInfo, R)
def insurance(request: Request, body: m.ResidentQuery) -> JSONResponse:
    return read(request, "insurance", body, m.InsuranceInfo)


@op("POST", "/v1/residents/contributions", "contributions", "缴费明细（按年度）/ contributions of a year",
    m.Contributions, R)
def contributions(request: Request, body: m.ContributionQuery) -> JSONResponse:
    return read(request, "contributions", body, m.Contributions)


@op("POST", "/v1/residents/rights-record", "rightsRecord", "个人权益记录 / rights record", m.RightsRecord, R)
def rights_record(request: Request, body: m.ResidentQuery) -> JSONResponse:
    return read(request, "rights_record", body, m.RightsRecord)


@op("POST", "/v1/residents/medical-account", "medicalAccount",
    "医保个人账户余额及收支明细 / medical account", m.MedicalAccount, R)
def medical_account(request: Request, body: m.YearQuery) -> JSONResponse:
    return read(request, "medical_account", body, m.MedicalAccount)


@op("POST", "/v1/residents/benefits", "benefits", "待遇领取 / pensions being paid", m.Benefits, R)
def benefits(request: Request, body: m.ResidentQuery) -> JSONResponse:
    return read(request, "benefits", body, m.Benefits)


@op("POST", "/v1/residents/resident-pension", "residentPension", "城乡居民养老缴费及待遇 / resident pension",
    m.ResidentPension, R)
def resident_pension(request: Request, body: m.ResidentQuery) -> JSONResponse:
    return read(request, "resident_pension", body, m.ResidentPension)


@op("POST", "/v1/cards/status", "cardStatus", "社会保障卡状态 / social-security card status", m.CardStatus, "cards")
def card_status(request: Request, body: m.CardQuery) -> JSONResponse:
    return read(request, "card_status", body, m.CardStatus)


@op("POST", "/v1/cards/report-loss", "reportCardLoss", "社会保障卡临时挂失（手机号确认）/ report the card lost",
    m.CardStatus, "cards", status=201, keyed=True, errors=WRITE_ERRORS)
def report_card_loss(request: Request, body: m.CardLossIn) -> JSONResponse:
    return write(request, "report_card_loss", body, m.CardStatus)


# --- payments ------------------------------------------------------------------------------------

P = "payments"


@op("POST", "/v1/bills/query", "billQuery", "水费/电费/燃气费账单查询 / utility bills", m.BillStatement, P)
def bill_query(request: Request, body: m.BillQuery) -> JSONResponse:
    return read(request, "bill_statement", body, m.BillStatement)


@op("POST", "/v1/contributions/options", "contributionOptions",
    "可缴年度与缴费档次 / contribution years and grades", m.ContributionOptions, P)
def contribution_options(request: Request, body: m.ContributionOptionsQuery) -> JSONResponse:
    return read(request, "contribution_options", body, m.ContributionOptions)


@op("POST", "/v1/orders", "createOrder", "创建支付订单（返回二维码内容）/ create a payment order", m.Order, P,
    status=201, keyed=True, errors=WRITE_ERRORS)
def create_order(request: Request, body: m.OrderIn) -> JSONResponse:
    return write(request, "create_order", body.root, m.Order)


@op("POST", "/v1/orders/status", "orderStatus", "订单状态（对账）/ order status", m.Order, P)
def order_status(request: Request, body: m.OrderRef) -> JSONResponse:
    return read(request, "order_status", body, m.Order)


@op("POST", "/v1/orders/close", "closeOrder", "关闭未支付订单 / close an unpaid order", m.Order, P,
    keyed=True, errors=WRITE_ERRORS)
def close_order(request: Request, body: m.OrderRef) -> JSONResponse:
    return write(request, "close_order", body, m.Order, status=200)


@op("POST", "/v1/orders/pay-code", "payWithCode", "付款码支付（被扫）/ pay an order with the payer's payment code",
    m.CodePayment, P, keyed=True, errors=WRITE_ERRORS)
def pay_with_code(request: Request, body: m.CodePaymentIn) -> JSONResponse:
    return write(request, "pay_with_code", body, m.CodePayment, status=200)


@op("POST", "/v1/orders/pay-code/status", "codePaymentStatus",
    "付款码支付结果查询 / where a payment by payment code stands", m.CodePayment, P)
def code_payment_status(request: Request, body: m.OrderRef) -> JSONResponse:
    return read(request, "code_payment_status", body, m.CodePayment)


@op("POST", "/v1/orders/pay-code/reverse", "reverseCodePayment",
    "撤销付款码支付（关闭订单，已付款则退回）/ reverse a payment by payment code", m.CodePayment, P,
    keyed=True, errors=WRITE_ERRORS)
def reverse_code_payment(request: Request, body: m.OrderRef) -> JSONResponse:
    return write(request, "reverse_code_payment", body, m.CodePayment, status=200)


# --- codes on the resident's phone ---------------------------------------------------------------


@op("POST", "/v1/identity/resolve", "resolveIdentityCode",
    "电子社保卡/电子身份证二维码核验（一次性，60秒有效）/ resolve a scanned identity code", m.ResolvedIdentity, R,
    keyed=True, errors=(400, 401, 403, 404, 409, 413, 422, 500, 502, 503))
def resolve_identity_code(request: Request, body: m.IdentityCodeIn) -> JSONResponse:
    return write(request, "resolve_identity_code", body, m.ResolvedIdentity, status=200)


# --- applications (24-hour 自助申办): files in chunks, the application, its progress ------------------

APPLY = "applications"


@op("POST", "/v1/residents/licences", "licences", "电子证照目录 / electronic licences held", m.Licences, R)
def licences(request: Request, body: m.LicenceQuery) -> JSONResponse:
    return read(request, "licences", body, m.Licences)


@op("POST", "/v1/applications/uploads", "openUpload", "申请材料上传（开始或续传）/ open or resume an upload",
    m.UploadStatus, APPLY, keyed=True, errors=WRITE_ERRORS)
def open_upload(request: Request, body: m.UploadOpen) -> JSONResponse:
    # Idempotent by the application's key at the platform (one upload per application), and
    # the answer is how much it holds *now*: replaying the first answer would make an upload
    # resumed after a restart send every chunk again. So the key is required, but not replayed.
    return read(request, "open_upload", body, m.UploadStatus)


@op("POST", "/v1/applications/chunks", "putChunk", "上传材料分块 / one chunk of a file", m.UploadStatus, APPLY,
    keyed=True, errors=WRITE_ERRORS)
def put_chunk(request: Request, body: m.ChunkIn) -> JSONResponse:
    return write(request, "put_chunk", body, m.UploadStatus, status=200)


@op("POST", "/v1/applications", "submitApplication", "提交申请，返回办件编号 / submit, get the case number",
    m.ApplicationAccepted, APPLY, status=201, keyed=True, errors=WRITE_ERRORS)
def submit_application(request: Request, body: m.ApplicationIn) -> JSONResponse:
    return write(request, "submit_application", body, m.ApplicationAccepted)


@op("POST", "/v1/applications/progress", "applicationProgress", "办件进度（本人）/ progress by ID number",
    m.ProgressList, APPLY)
def application_progress(request: Request, body: m.ProgressQuery) -> JSONResponse:
    return read(request, "application_progress", body, m.ProgressList)


@op("POST", "/v1/applications/progress-by-code", "applicationProgressByCode",
    "办件进度（回执二维码）/ progress by the receipt's code", m.ApplicationProgress, APPLY)
def application_progress_by_code(request: Request, body: m.ProgressCodeQuery) -> JSONResponse:
    return read(request, "application_progress_by_code", body, m.ApplicationProgress)


@op("POST", "/v1/applications/by-point", "pointApplications", "网点办件（帮办代办）/ applications of a point",
    m.PointApplications, APPLY)
def point_applications(request: Request, body: m.PointQuery) -> JSONResponse:
    return read(request, "point_applications", body, m.PointApplications)


@op("GET", "/v1/applications/track", "trackApplication", "办件进度公开查询 / public progress page",
    m.ApplicationProgress, APPLY, signed=False, errors=(404, 422, 500, 502, 503))
def track_application(
    request: Request,
    code: str = Query(max_length=64, description="the code on the 受理回执's QR"),
) -> JSONResponse:
    return JSONResponse(checked(m.ApplicationProgress, gw(request).platform.track_application(code), "track"))


# --- certificates --------------------------------------------------------------------------------


@op("POST", "/v1/certificates", "issueCertificate", "出具证明（含验证码）/ issue a certificate", m.Certificate,
    "certificates", status=201, keyed=True, errors=WRITE_ERRORS)
def issue_certificate(request: Request, body: m.CertificateRequest) -> JSONResponse:
    return write(request, "issue_certificate", body, m.Certificate)


@op("GET", "/v1/certificates/verify", "verifyCertificate", "证明验真 / verify a certificate code",
    m.CertificateCheck, "certificates", signed=False, errors=(404, 422, 500, 502, 503))
def verify_certificate(
    request: Request,
    code: str = Query(max_length=64, description="the verification code printed on the certificate"),
) -> JSONResponse:
    return JSONResponse(checked(m.CertificateCheck, gw(request).platform.verify_certificate(code), "verify"))


# --- what terminals deliver ----------------------------------------------------------------------


def deliver(request: Request, kind: str, item: BaseModel) -> JSONResponse:
    """Keep a delivered item once per key, tell the platform, answer ``Accepted``."""
    g, c = gw(request), ctx(request)
    payload = item.model_dump(mode="json")
    if kind != "heartbeat":
        done = keyed(lambda: g.store.replay(c.terminal, c.key, kind, request.state.json))
        if done is not None:
            return JSONResponse(done[1], done[0])
        g.platform.forward(c, kind, payload)

    def effect(conn: Any) -> tuple[int, dict[str, Any]]:
        now = time.time()
        at = g.store.add_received(conn, kind, c.terminal, c.key, payload)
        answer: dict[str, Any] = {"accepted": True, "kind": kind, "idempotency_key": c.key, "received_at": at}
        if kind == "heartbeat":
            answer["commands"] = fleet.record_heartbeat(conn, c.terminal, item, offline_after_s=g.offline_after_s,
                                                        now=now)
        else:
            fleet.record_delivery(conn, kind, c.terminal, item, now)
        return 201, answer

    code, answer = keyed(lambda: g.store.local_write(c.terminal, c.key, kind, request.state.json, effect,
                                                     lazy=kind == "heartbeat"))
    return JSONResponse(answer, code)


def _delivery(kind: str, op_id: str, summary: str, model: type[BaseModel], response: type[BaseModel]) -> None:
    path, _ = m.DELIVERY[kind]

    def handler(request: Request, body: Any) -> JSONResponse:
        return deliver(request, kind, body)

    handler.__name__ = op_id
    handler.__annotations__ = {"request": Request, "body": model, "return": JSONResponse}
    op("POST", path, op_id, summary, response, "outbox", status=201, keyed=True, errors=DELIVERY_ERRORS)(handler)


_delivery("rating", "rating", "好差评 / service rating", m.RatingIn, m.Accepted)
_delivery("transaction", "transaction", "办件记录 / completed transaction", m.TransactionIn, m.Accepted)
_delivery("device_event", "deviceEvent", "设备事件 / device event", m.DeviceEventIn, m.Accepted)
_delivery("help_request", "helpRequest", "帮办代办回电申请 / help callback request", m.HelpRequestIn, m.Accepted)
_delivery("audit", "audit", "管理操作审计 / admin audit entry", m.AuditIn, m.Accepted)
_delivery("heartbeat", "heartbeat", "终端心跳（应答携带远程指令）/ terminal heartbeat (the answer carries commands)",
          m.HeartbeatIn, m.HeartbeatAnswer)

DIAGNOSTICS_MAX_BODY = 2 * 1024 * 1024


@op("POST", "/v1/diagnostics", "diagnostics", "上传诊断包 / upload a diagnostics bundle", m.Accepted, "outbox",
    status=201, keyed=True, errors=DELIVERY_ERRORS, max_body=DIAGNOSTICS_MAX_BODY)
def diagnostics(request: Request, body: m.DiagnosticsIn) -> JSONResponse:
    g, c = gw(request), ctx(request)
    data = base64.b64decode(body.content_b64)  # the model's pattern admits base64 only

    def effect(conn: Any) -> tuple[int, dict[str, Any]]:
        fleet.add_diagnostics(conn, c.terminal, body, data, time.time())
        return 201, {"accepted": True, "kind": "diagnostics", "idempotency_key": c.key,
                     "received_at": now_iso()}

    code, answer = keyed(lambda: g.store.local_write(c.terminal, c.key, "diagnostics", request.state.json, effect))
    return JSONResponse(answer, code)
