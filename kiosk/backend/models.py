"""The shapes the terminal and the backend exchange, as pydantic models.

The reference backend validates what it is sent against the request models, and the client
validates every answer against the response models, so a backend that drifts from the
contract (``openapi.yaml``) is caught at the boundary instead of deep inside a journey.
Amounts are integers in fen. Personal data in answers is masked unless a document needs it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, RootModel

from kiosk.store.outbox import OUTBOX_KINDS


class _Model(BaseModel):
    # answers may grow new fields without breaking older terminals
    model_config = ConfigDict(extra="allow")


class _Request(BaseModel):
    # requests are strict: a typo in a field name must not be silently ignored
    model_config = ConfigDict(extra="forbid")


def _json_int(value: Any) -> Any:
    # pydantic's lax int takes true as 1 and "5" as 5; neither is a JSON Schema integer (2089.0 is)
    if isinstance(value, bool | str):
        raise ValueError("must be a JSON integer")
    return value


def _json_bool(value: Any) -> Any:
    if not isinstance(value, bool):  # lax bool would take 1, "yes" and "on"
        raise ValueError("must be true or false")
    return value


#: request numbers and flags as JSON Schema means them (the contract in openapi.yaml)
JSON_INT = BeforeValidator(_json_int)
Bool = Annotated[bool, BeforeValidator(_json_bool)]

IdNumber = Annotated[str, Field(pattern=r"^[0-9]{17}[0-9X]$")]
Stamp = Annotated[str, Field(min_length=10, max_length=40)]  # ISO 8601 time
Text = Annotated[str, Field(max_length=200)]
ShortText = Annotated[str, Field(min_length=1, max_length=64)]

SchemeId = Literal[
    "pension_employee", "pension_resident", "pension_flexible", "medical_employee", "medical_resident"
]
Period = Annotated[str, Field(pattern=r"^(19|20)[0-9]{2}-(0[1-9]|1[0-2])$")]  # YYYY-MM
#: the longest range one contribution certificate covers (five years, what 购房 and 落户 ask for)
CERTIFICATE_MAX_MONTHS = 60

CERTIFICATE_KINDS: dict[str, str] = {
    "contribution_proof": "个人参保缴费证明",
    "rights_record": "个人权益记录单",
    "benefit_proof": "待遇领取证明",
    "medical_contribution_proof": "医保参保缴费证明",
    "medical_settlement": "基本医疗保险统筹费用结算明细单",
}


# --- errors --------------------------------------------------------------------------------


class ErrorBody(BaseModel):
    code: str
    message_zh: str
    message_en: str
    retryable: bool


class ErrorEnvelope(BaseModel):
    error: ErrorBody


# --- requests ------------------------------------------------------------------------------


class ResidentQuery(_Request):
    id_number: IdNumber


class ContributionQuery(_Request):
    id_number: IdNumber
    year: Annotated[int, Field(ge=1990, le=2100), JSON_INT] | None = None


def months_between(start: str, end: str) -> int:
    """Months from ``start`` to ``end`` (YYYY-MM), both counted: 2026-01..2026-06 is 6."""
    return (int(end[:4]) - int(start[:4])) * 12 + int(end[5:7]) - int(start[5:7]) + 1


class CertificateRequest(_Request):
    id_number: IdNumber
    kind: Literal[
        "contribution_proof",
        "rights_record",
        "benefit_proof",
        "medical_contribution_proof",
        "medical_settlement",
    ]
    year: Annotated[int, Field(ge=1990, le=2100), JSON_INT] | None = (
        None  # medical_settlement: default this year
    )
    # contribution_proof: the scheme and the months it covers (default: the first scheme on
    # record, its latest year); the certificate lists every month of the range. The two go
    # together and span 1 to CERTIFICATE_MAX_MONTHS months, or the backend refuses with
    # 422 bad_period
    scheme: SchemeId | None = None
    period_from: Period | None = None
    period_to: Period | None = None


class YearQuery(_Request):
    id_number: IdNumber
    year: Annotated[int, Field(ge=1990, le=2100), JSON_INT] | None = None


Utility = Literal["water", "electricity", "gas"]
AccountNo = Annotated[str, Field(pattern=r"^[0-9]{8,12}$")]
PayableScheme = Literal["pension_resident", "medical_resident", "pension_flexible"]
OrderNo = Annotated[str, Field(pattern=r"^[A-Z0-9-]{6,40}$")]


class BillQuery(_Request):
    utility: Utility
    account_no: AccountNo


class ContributionOptionsQuery(_Request):
    id_number: IdNumber
    scheme: PayableScheme


class BillOrderIn(_Request):
    purpose: Literal["bill"]
    utility: Utility
    account_no: AccountNo
    bill_ids: Annotated[list[Annotated[str, Field(max_length=40)]], Field(max_length=24)] | None = (
        None  # None: all due
    )


class ContributionOrderIn(_Request):
    purpose: Literal["contribution"]
    id_number: IdNumber
    scheme: PayableScheme
    year: Annotated[int, Field(ge=2000, le=2100), JSON_INT]
    grade_id: Annotated[str, Field(max_length=16)]
    months: Annotated[int, Field(ge=1, le=12), JSON_INT] = 1  # flexible employment pays by the month


class OrderIn(
    RootModel[Annotated[BillOrderIn | ContributionOrderIn, Field(discriminator="purpose")]]
):
    """A payment order: a bill order or a contribution order (``purpose`` says which)."""


class OrderRef(_Request):
    order_no: OrderNo


class CardQuery(_Request):
    id_number: IdNumber


class CardLossIn(_Request):
    """临时挂失: confirmed by the mobile number on record, typed by the resident."""

    id_number: IdNumber
    phone: Annotated[str, Field(pattern=r"^1[0-9]{10}$")]


class IdentityCodeIn(_Request):
    """A code scanned from the resident's phone (电子社保卡 or 电子身份证): a short-lived,
    single-use token that only the platform can turn into a person. Refused with 404
    ``token_unknown`` (not a code the platform issued), 403 ``token_forged`` (its tag does not
    check), 409 ``token_expired`` (older than 60 s) or 409 ``token_used`` (resolved before)."""

    code: Annotated[str, Field(min_length=1, max_length=512)]


#: a payment code (付款码) as the payer's app shows it: 16 to 24 digits
AuthCode = Annotated[str, Field(pattern=r"^[0-9]{16,24}$")]


class CodePaymentIn(_Request):
    """Pay an order with the payer's payment code (付款码, 被扫). Keyed: a resend after a lost
    answer is the same payment, never a second one."""

    order_no: OrderNo
    auth_code: AuthCode


class RatingIn(_Request):
    """One 好差评 record (国办发〔2019〕51号). The evaluator is confidential: hash and mask only."""

    transaction_no: ShortText
    area_code: Annotated[str, Field(pattern=r"^[0-9]{6}$")]
    item_id: ShortText
    item_name: Text
    evaluator_hash: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    evaluator_masked: Annotated[str, Field(max_length=32)] = ""
    channel: Literal["terminal"] = "terminal"
    channel_code: Literal["5"] = "5"  # 其他大厅终端, in the national channel codes
    satisfaction: Annotated[int, Field(ge=1, le=5), JSON_INT] | Literal["not_rated"]
    indicators: Annotated[list[Annotated[str, Field(max_length=32)]], Field(max_length=16)] = []
    reason: Annotated[str, Field(max_length=500)] = ""
    #: the pick-list codes behind ``reason`` (the words the resident saw are in ``reason``)
    reason_codes: Annotated[list[Annotated[str, Field(max_length=32)]], Field(max_length=16)] = []
    #: who answered first: the screen, the evaluation pad, or nobody in time
    source: Literal["screen", "pad", "timeout"] = "screen"
    rated_at: Stamp


class TransactionIn(_Request):
    """A completed (or abandoned) matter in the terminal's journal; personal data masked."""

    transaction_no: ShortText
    item_id: ShortText
    item_name: Text
    masked_name: Annotated[str, Field(max_length=64)] = ""
    masked_id: Annotated[str, Field(max_length=32)] = ""
    amount_fen: Annotated[int, Field(ge=0, le=2**53), JSON_INT] | None = None
    order_no: Annotated[str, Field(max_length=64)] | None = None
    status: Literal["completed", "failed", "cancelled", "paid_unconfirmed"]
    completed_at: Stamp


class DeviceEventIn(_Request):
    device: ShortText
    kind: ShortText
    detail: Annotated[str, Field(max_length=500)] = ""
    at: Stamp


class HelpRequestIn(_Request):
    phone: Annotated[str, Field(pattern=r"^1[0-9]{10}$")]
    item_id: ShortText
    item_name: Text
    requested_at: Stamp


class AuditIn(_Request):
    actor: ShortText
    action: ShortText
    detail: Annotated[str, Field(max_length=500)] = ""
    at: Stamp


class CommandAck(_Request):
    """What became of a remote command the terminal was given in a heartbeat's answer."""

    command_id: Annotated[int, Field(ge=1, le=2**53), JSON_INT]
    ok: Bool
    detail: Annotated[str, Field(max_length=500)] = ""


class HeartbeatIn(_Request):
    software_version: ShortText
    devices: Annotated[dict[str, Annotated[str, Field(max_length=32)]], Field(max_length=16)] = {}
    paper: Annotated[str, Field(max_length=16)] = "unknown"
    #: the printer's sensor says low, or the roll counter says it is nearly used
    paper_near_end: Bool = False
    outbox_depth: Annotated[int, Field(ge=0, le=2**53), JSON_INT] = 0
    #: age of the oldest row waiting in the outbox, seconds (None: nothing waits)
    outbox_oldest_s: Annotated[int, Field(ge=0, le=2**53), JSON_INT] | None = None
    in_service: Bool = True
    #: the delivery's last error, scrubbed of personal data ("" when all is well)
    last_error: Annotated[str, Field(max_length=500)] = ""
    #: commands carried out since the last heartbeat the backend took
    acks: Annotated[list[CommandAck], Field(max_length=32)] = []
    at: Stamp


class DiagnosticsIn(_Request):
    """A diagnostics bundle (the .zip ``kiosk admin diagnostics`` writes), sent on request."""

    command_id: Annotated[int, Field(ge=1, le=2**53), JSON_INT] | None = None
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,100}$")]
    content_b64: Annotated[
        str,
        Field(
            max_length=1_400_000,
            pattern=r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$",
        ),
    ]


# --- applications (24-hour 自助申办): uploaded in chunks, then submitted ---------------------

#: an application's key: made by the terminal, it is the idempotency key of the whole submission
AppKey = Annotated[str, Field(pattern=r"^[A-Za-z0-9._:-]{8,64}$")]
BlobName = Annotated[str, Field(pattern=r"^[a-z0-9_.-]{1,64}$")]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
#: a scanned page is at most this big (the terminal re-encodes until it fits)
MAX_PAGE_BYTES = 300 * 1024
#: the largest file of an application (a page, the signature picture, its strokes)
MAX_BLOB_BYTES = 512 * 1024
#: the largest chunk the terminal sends: its base64 in JSON stays well under a 64 KiB request
MAX_CHUNK_BYTES = 32 * 1024
MAX_BLOBS = 40


class BlobIn(_Request):
    """One file of an application, announced before its bytes: what the upload must end with."""

    name: BlobName
    size: Annotated[int, Field(ge=1, le=MAX_BLOB_BYTES), JSON_INT]
    sha256: Sha256
    media_type: Literal["image/jpeg", "image/png", "application/json"]


class ApplicationQueued(_Request):
    """The outbox row of an application: what is sealed on the terminal, never a personal value
    (the form and the files are in the encrypted vault; see ``kiosk.store.applications``)."""

    application_key: AppKey
    item_id: ShortText
    item_name: Text
    masked_name: Annotated[str, Field(max_length=64)] = ""
    masked_id: Annotated[str, Field(max_length=32)] = ""
    blobs: Annotated[list[BlobIn], Field(min_length=1, max_length=MAX_BLOBS)]
    #: the sealed form (name, size, digest): sent in the submission's body, not uploaded
    form: BlobIn
    queued_at: Stamp


class UploadOpen(_Request):
    application_key: AppKey
    blobs: Annotated[list[BlobIn], Field(min_length=1, max_length=MAX_BLOBS)]


class UploadStatus(_Model):
    upload_id: str
    #: the biggest chunk the platform takes
    chunk_bytes: Annotated[int, Field(ge=1024)]
    #: bytes of each file the platform holds: a resumed upload starts there
    received: dict[str, int]
    complete: bool


class ChunkIn(_Request):
    upload_id: Annotated[str, Field(pattern=r"^UP-[A-Za-z0-9-]{4,60}$")]
    blob: BlobName
    offset: Annotated[int, Field(ge=0, le=MAX_BLOB_BYTES), JSON_INT]
    data: Annotated[str, Field(min_length=4, max_length=(MAX_CHUNK_BYTES + 2) // 3 * 4,
                               pattern=r"^(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")]  # base64


class Applicant(_Request):
    """The applicant as the ID card gives them: a form is the one place the full values travel."""

    name: Annotated[str, Field(min_length=1, max_length=30)]
    id_number: Annotated[str, Field(min_length=5, max_length=36)]
    sex: Literal["0", "1", "2", "9"]
    birth_date: Annotated[str, Field(max_length=10)]
    address: Annotated[str, Field(max_length=70)]


class FormField(_Request):
    kind: Literal["pick", "region", "phone", "number"]
    value: Annotated[str, Field(min_length=1, max_length=32)]
    text: Annotated[str, Field(min_length=1, max_length=120)]


class DeliveryIn(_Request):
    method: Literal["mail", "pickup"]
    to: Literal["card", "region"] | None = None
    region: Annotated[str, Field(pattern=r"^[0-9]{6,12}$")] | None = None
    house: Annotated[str, Field(pattern=r"^[0-9]{1,4}$")] | None = None
    address: Annotated[str, Field(max_length=120)] | None = None
    point: Annotated[str, Field(max_length=64)] | None = None


class MaterialIn(_Request):
    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=32)]
    name_zh: Text
    required: Bool = True
    source: Literal["scan", "licence", "none"]
    pages: Annotated[list[BlobName], Field(max_length=6)] = []
    licence_id: Annotated[str, Field(max_length=40)] | None = None


class ApplicationIn(_Request):
    """The application itself, once its files are uploaded (``upload_id``)."""

    application_key: AppKey
    upload_id: Annotated[str, Field(pattern=r"^UP-[A-Za-z0-9-]{4,60}$")]
    area_code: Annotated[str, Field(pattern=r"^[0-9]{6}$")]
    #: the service point the terminal stands at (its 帮办代办 staff follow it up)
    point: Annotated[str, Field(max_length=64)]
    item_id: ShortText
    item_name: Text
    applicant: Applicant
    fields: Annotated[dict[str, FormField], Field(max_length=32)]
    materials: Annotated[list[MaterialIn], Field(max_length=12)]
    signature: BlobName
    signature_strokes: BlobName
    #: the resident confirmed the item's 承诺 text, and which text (its digest)
    committed: Literal[True]
    commitment_sha256: Sha256
    delivery: DeliveryIn
    submitted_at: Stamp


class ProgressQuery(_Request):
    id_number: IdNumber


class ProgressCodeQuery(_Request):
    """What the 受理回执's QR code carries: a code for one application, no personal data."""

    code: Annotated[str, Field(pattern=r"^[A-Za-z0-9]{8,32}$")]


class LicenceQuery(_Request):
    id_number: IdNumber


class PointQuery(_Request):
    point: Annotated[str, Field(min_length=1, max_length=64)]


class MaterialReceived(_Model):
    key: str
    name_zh: str
    source: Literal["scan", "licence", "none"]
    pages: int


class ApplicationAccepted(_Model):
    application_no: str  # 办件编号
    item_id: str
    item_name: str
    accepted_at: str
    promised_by: str  # YYYY-MM-DD: 承诺办结时间
    progress_code: str
    progress_url: str
    materials: list[MaterialReceived]


StepName = Literal["accepted", "review", "correction", "done", "posted", "ready"]


class ProgressStep(_Model):
    step: StepName
    name_zh: str
    at: str
    note_zh: str = ""


class ApplicationProgress(_Model):
    application_no: str
    item_id: str
    item_name: str
    masked_name: str
    status: StepName
    status_zh: str
    accepted_at: str
    promised_by: str
    steps: list[ProgressStep]
    corrections: list[str] = []  # 补正: what to hand in again, and why
    delivery_zh: str = ""
    tracking_no: str | None = None  # 已寄出: the postal tracking number


class ProgressList(_Model):
    masked_id: str
    applications: list[ApplicationProgress]


class Licence(_Model):
    """An 电子证照 the platform holds for the resident (what it is, not its content)."""

    licence_id: str
    document: str  # a document kind of ``kiosk.services.application_spec.DOCUMENTS``
    name_zh: str
    issuer_zh: str
    issued_on: str


class Licences(_Model):
    masked_id: str
    licences: list[Licence]


class PointApplication(_Model):
    application_no: str
    item_name: str
    masked_name: str
    status: StepName
    status_zh: str
    accepted_at: str
    promised_by: str
    delivery_zh: str


class PointApplications(_Model):
    point: str
    applications: list[PointApplication]


#: outbox kinds a sender of their own delivers (several calls: upload, then submit), with the
#: endpoint that finally takes them; ``kiosk.backend.uploads`` is that sender
SENT_BY_UPLOAD: dict[str, tuple[str, type[BaseModel]]] = {"application": ("/v1/applications", ApplicationIn)}
#: what an outbox row of each such kind holds (checked when it is queued)
QUEUED: dict[str, type[BaseModel]] = {"application": ApplicationQueued}

#: outbox kind -> (path, request model)
DELIVERY: dict[str, tuple[str, type[BaseModel]]] = {
    "rating": ("/v1/ratings", RatingIn),
    "transaction": ("/v1/transactions", TransactionIn),
    "device_event": ("/v1/device-events", DeviceEventIn),
    "help_request": ("/v1/help-requests", HelpRequestIn),
    "audit": ("/v1/audit", AuditIn),
    "heartbeat": ("/v1/heartbeat", HeartbeatIn),
}
assert set(DELIVERY) | set(SENT_BY_UPLOAD) == set(OUTBOX_KINDS), "every outbox kind needs an endpoint"


# --- answers -------------------------------------------------------------------------------


class Health(_Model):
    status: Literal["ok"]
    time: str
    version: str


class Scheme(_Model):
    scheme: str
    name_zh: str
    status: str
    status_zh: str
    unit: str | None = None
    start: str  # YYYY-MM


class InsuranceInfo(_Model):
    masked_name: str
    masked_id: str
    insured: bool
    schemes: list[Scheme]


class ContributionRow(_Model):
    period: str  # YYYY-MM (monthly schemes) or YYYY (annual schemes)
    scheme: str
    scheme_zh: str
    base_fen: int
    personal_fen: int
    unit_fen: int
    status: Literal["paid", "due", "arrears"]


class Contributions(_Model):
    masked_id: str
    years: list[int]
    year: int | None
    rows: list[ContributionRow]
    total_personal_fen: int
    total_unit_fen: int


class CertificateDocument(_Model):
    title: str
    #: the holder, masked; the terminal prints the holder it identified (name and ID number)
    #: above ``lines`` after checking it is this one
    holder_masked_name: str
    holder_masked_id: str
    issued_at: str
    lines: list[tuple[str, str]]  # what is certified, after the holder
    table_header: list[str] = []
    table_rows: list[list[str]] = []
    footer: list[str] = []
    issuer: str = ""  # whose seal the certificate bears, e.g. 宁阳县社会保险事业中心
    #: issued by a test or simulated platform: a specimen, its seal says 样章
    specimen: bool = False


class Certificate(_Model):
    certificate_no: str
    kind: str
    verification_code: Annotated[str, Field(min_length=8)]
    verify_url: str
    document: CertificateDocument


class Order(_Model):
    order_no: str
    purpose: Literal["bill", "contribution"]
    description_zh: str
    amount_fen: Annotated[int, Field(ge=0)]
    status: Literal["unpaid", "paid", "closed", "expired"]
    qr_payload: str
    created_at: str
    expires_at: str
    paid_at: str | None = None


class Bill(_Model):
    bill_id: str
    period: str
    item_zh: str
    usage: int | float
    unit_zh: str
    amount_fen: int
    status: Literal["paid", "due"]
    due_date: str


class BillStatement(_Model):
    utility: str
    utility_zh: str
    company_zh: str
    account_no: str
    holder_masked_name: str
    address_masked: str
    bills: list[Bill]
    total_due_fen: int


class Grade(_Model):
    grade_id: str
    amount_fen: int
    label_zh: str


class PayableYear(_Model):
    year: int
    paid: bool


class ContributionOptions(_Model):
    scheme: str
    scheme_zh: str
    masked_id: str
    eligible: bool
    reason_zh: str  # why not eligible, for the resident; empty when eligible
    years: list[PayableYear]
    grades: list[Grade]
    months_max: int


class RightsScheme(_Model):
    scheme: str
    scheme_zh: str
    status_zh: str
    start: str
    months_paid: int
    personal_account_fen: int
    last_paid: str | None


class RightsRecord(_Model):
    masked_name: str
    masked_id: str
    as_of: str
    schemes: list[RightsScheme]


class Movement(_Model):
    date: str
    kind: Literal["credit", "debit"]
    amount_fen: int
    description_zh: str
    balance_fen: int


class MedicalAccount(_Model):
    masked_id: str
    year: int
    opening_balance_fen: int
    balance_fen: int
    movements: list[Movement]


class BenefitPayment(_Model):
    period: str
    amount_fen: int
    paid_on: str
    bank_zh: str
    masked_account: str


class Benefit(_Model):
    scheme: str
    scheme_zh: str
    kind_zh: str
    since: str
    monthly_fen: int
    payments: list[BenefitPayment]
    qualification_certified_on: str  # 养老金领取资格认证, once a year
    qualification_due_by: str


class Benefits(_Model):
    masked_id: str
    receiving: bool
    benefits: list[Benefit]


class ResidentPensionYear(_Model):
    year: int
    personal_fen: int
    subsidy_fen: int
    status: Literal["paid", "due", "arrears"]


class PensionPaid(_Model):
    monthly_fen: int
    since: str


class ResidentPension(_Model):
    masked_id: str
    insured: bool
    status_zh: str = ""
    contributions: list[ResidentPensionYear]
    personal_account_fen: int
    benefit: PensionPaid | None


class CardStatus(_Model):
    masked_card_number: str
    status: Literal["normal", "lost"]  # lost: 临时挂失 in force
    status_zh: str
    changed_at: str | None = None
    masked_phone: str = ""  # the phone on file, masked: the hint for confirming a loss


class ResolvedIdentity(_Model):
    """Who a scanned identity code stands for. The terminal uses the ID number for what follows,
    as after a card read, and shows only the masked forms."""

    source: Literal["e_sscard", "e_id"]  # 电子社保卡 | 电子身份证
    id_number: Annotated[str, Field(pattern=r"^[0-9]{17}[0-9X]$")]
    name: Annotated[str, Field(min_length=1, max_length=64)]
    sex: Literal["0", "1", "2", "9"] = "0"
    birth_date: str | None = None  # YYYY-MM-DD
    masked_name: str
    masked_id: str


class CodePayment(_Model):
    """Where a payment by payment code stands. ``paying``: the payer is confirming on the phone
    (entering the password); ask again. ``failed``: ``reason`` says why (``insufficient_funds``,
    ``code_used``, ``code_expired``, ``code_invalid``, ``payer_cancelled``, ``order_closed``) and
    nothing was charged. ``reversed`` (撤销): the order is closed and any money that moved goes
    back (``refunded``). ``none``: no payment code was ever tried on the order."""

    order_no: str
    status: Literal["none", "paying", "paid", "failed", "reversed"]
    reason: str = ""
    refunded: bool = False
    order: Order


class CertificateCheck(_Model):
    valid: bool
    certificate_no: str
    kind: str
    issued_at: str
    title: str
    holder_masked_name: str


class Accepted(_Model):
    accepted: Literal[True]
    kind: str
    idempotency_key: str
    received_at: str


#: remote commands a terminal carries out (a terminal refuses kinds it does not know)
COMMAND_KINDS: dict[str, str] = {
    "out_of_service": "暂停服务 / out of service",
    "in_service": "恢复服务 / back in service",
    "reconnect": "重连设备 / reconnect a device",
    "diagnostics": "上传诊断包 / upload a diagnostics bundle",
    "notice": "待机页公告 / notice on the idle screen",
}


class Command(_Model):
    command_id: int
    kind: str
    args: dict[str, str] = {}


class HeartbeatAnswer(Accepted):
    """A heartbeat's answer carries the commands waiting for the terminal: the terminal never
    opens a port, so this is how the fleet console reaches it."""

    commands: list[Command] = []


def error_body(code: str, zh: str, en: str, retryable: bool) -> dict[str, Any]:
    return {"error": {"code": code, "message_zh": zh, "message_en": en, "retryable": retryable}}
