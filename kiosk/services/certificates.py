"""证明打印: query a resident's records from the backend and print them as a certificate.

The first flow is 个人参保缴费证明查询打印: show the resident's insurance and contributions by
year, then print the certificate on the receipt printer with its verification code and QR.
A print request is one ``PrintJob`` for the whole session, so a retry after the paper ran out
prints the certificate once, never twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kiosk.errors import KioskError
from kiosk.receipt import PrintJob, Receipt
from kiosk.services.journey import Outcome

if TYPE_CHECKING:
    from kiosk.services.catalogue import ServiceItem
    from kiosk.services.journey import Journey

log = logging.getLogger(__name__)


def yuan(fen: int) -> str:
    return f"￥{fen // 100:,}.{fen % 100:02d}"


@dataclass(frozen=True)
class SchemeRow:
    name: str
    status: str
    since: str


@dataclass(frozen=True)
class MonthRow:
    period: str  # "2026-03"
    scheme: str
    personal_fen: int
    status: str


PAYMENT_STATUS_ZH = {"paid": "已缴", "due": "未缴", "owed": "欠缴", "arrears": "欠缴", "refunded": "已退"}


@dataclass(frozen=True)
class ContributionRecord:
    """What the record screen shows: masked identity, schemes, this year's months."""

    masked_name: str
    masked_id: str
    insured: bool
    schemes: tuple[SchemeRow, ...]
    year: int | None
    months: tuple[MonthRow, ...]
    years_on_record: int

    @property
    def empty(self) -> bool:
        return not self.insured and not self.schemes

    @property
    def year_total_fen(self) -> int:
        return sum(m.personal_fen for m in self.months)


class ContributionCertificateFlow:
    """个人参保缴费证明查询打印: load -> show -> print -> result."""

    certificate_kind = "contribution_proof"

    def __init__(self, item: ServiceItem, journey: Journey) -> None:
        self.item = item
        self.journey = journey
        self.record: ContributionRecord | None = None

    # blocking: run on a worker thread
    def load(self) -> ContributionRecord:
        session = self.journey.session
        assert session.identity is not None
        backend = self.journey.ports.backend
        info = backend.insurance_info(session.identity.id_number)
        history = backend.contributions(session.identity.id_number)
        session.data["insurance"] = info
        session.data["contributions"] = history
        self.record = _record_from(info, history)
        return self.record

    # blocking: run on a worker thread
    def print_certificate(self) -> Outcome:
        """Issue the certificate at the backend, print it, journal it. Safe to call again."""
        j = self.journey
        session, ports = j.session, j.ports
        assert session.identity is not None and self.record is not None
        txn = session.transaction_no or session.reference
        try:
            job = session.data.get("print_job")
            if job is None:
                issued = ports.backend.certificate(
                    session.identity.id_number, self.certificate_kind, idempotency_key=f"{txn}-cert"
                )
                job = PrintJob(job_id=f"{txn}-cert", receipt=self._receipt(txn, issued))
                session.data["print_job"] = job
                session.data["verification_code"] = issued.get("verification_code", "")
            printer = ports.devices.device("printer")
            if printer is None:
                raise KioskError("no printer configured", message_zh="本终端未配置打印机", message_en="This terminal has no printer")
            job.attempts += 1
            printer.print_job(job)
        except KioskError as e:
            log.warning("certificate %s not printed: %s", txn, e)
            return Outcome(
                ok=False,
                title_zh="打印未完成",
                title_en="Printing did not finish",
                message_zh=f"{e.message_zh}。您可以重新打印，或凭参考号到窗口办理。",
                message_en=f"{e.message_en}. You can print again, or show the reference number at a service window.",
                reference=txn,
                can_retry="print" if e.retryable else "",
            )
        ports.journal.record(
            transaction_no=txn,
            item_id=self.item.id,
            item_name=self.item.name_zh,
            masked_name=self.record.masked_name,
            masked_id=self.record.masked_id,
            amount_fen=None,
            status="completed",
        )
        return Outcome(
            ok=True,
            title_zh="打印完成",
            title_en="Printed",
            message_zh="请取走您的证明。证明上的验证码可用于查验真伪。",
            message_en="Please take your certificate. Its verification code proves it is genuine.",
            reference=txn,
        )

    def _receipt(self, txn: str, issued: dict) -> Receipt:
        """The certificate as the backend issued it: its lines, table and verification code."""
        doc = issued.get("document", {})
        cfg = self.journey.ports.config
        code = str(issued.get("verification_code", ""))
        return Receipt(
            title=str(doc.get("title", self.item.name_zh)),
            transaction_no=txn,
            issued_at=self.journey.ports.now().strftime("%Y-%m-%d %H:%M:%S"),
            terminal_id=cfg.terminal.id,
            lines=(
                *((str(k), str(v)) for k, v in doc.get("lines", [])),
                ("证明编号", str(issued.get("certificate_no", ""))),
                ("验证码", code),
            ),
            table_header=tuple(str(h) for h in doc.get("table_header", [])),
            table_rows=tuple(tuple(str(c) for c in row) for row in doc.get("table_rows", [])),
            qr_payload=str(issued.get("verify_url") or code),
            footer=tuple(str(f) for f in doc.get("footer", [])),
        )


def _record_from(info: dict, history: dict) -> ContributionRecord:
    schemes = tuple(
        SchemeRow(name=str(x.get("name_zh", x.get("scheme", ""))), status=str(x.get("status_zh", x.get("status", ""))),
                  since=str(x.get("start", "")))
        for x in info.get("schemes", [])
    )
    months = tuple(
        MonthRow(
            period=str(row.get("period", "")),
            scheme=str(row.get("scheme_zh", row.get("scheme", ""))),
            personal_fen=int(row.get("personal_fen", 0)),
            status=PAYMENT_STATUS_ZH.get(str(row.get("status", "")), str(row.get("status", ""))),
        )
        for row in history.get("rows", [])
    )
    return ContributionRecord(
        masked_name=str(info.get("masked_name", "")),
        masked_id=str(info.get("masked_id", "")),
        insured=bool(info.get("insured", bool(schemes))),
        schemes=schemes,
        year=history.get("year"),
        months=months,
        years_on_record=len(history.get("years", [])),
    )
