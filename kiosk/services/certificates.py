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
from kiosk.identity import mask_id_number, mask_name
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
class YearRow:
    year: int
    months: int
    amount_fen: int


@dataclass(frozen=True)
class ContributionRecord:
    """What the record screen shows: masked identity, schemes, totals per year."""

    masked_name: str
    masked_id: str
    schemes: tuple[SchemeRow, ...]
    years: tuple[YearRow, ...]
    total_months: int

    @property
    def empty(self) -> bool:
        return not self.schemes and not self.years


class ContributionCertificateFlow:
    """个人参保缴费证明查询打印: load -> show -> print -> result."""

    certificate_kind = "pension_contribution"

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
        self.record = _record_from(session.identity.name, session.identity.id_number, info, history)
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
            status="printed",
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
        rec = self.record
        assert rec is not None
        cfg = self.journey.ports.config
        code = str(issued.get("verification_code", ""))
        return Receipt(
            title="个人参保缴费证明",
            transaction_no=txn,
            issued_at=self.journey.ports.now().strftime("%Y-%m-%d %H:%M:%S"),
            terminal_id=cfg.terminal.id,
            lines=(
                ("姓名", rec.masked_name),
                ("证件号码", rec.masked_id),
                *((s.name, f"{s.status}（{s.since}起）") for s in rec.schemes),
                ("累计缴费月数", f"{rec.total_months}个月"),
                ("验证码", code),
            ),
            table_header=("年度", "月数", "缴费金额"),
            table_rows=tuple((str(y.year), str(y.months), yuan(y.amount_fen)) for y in rec.years),
            qr_payload=str(issued.get("verify_url") or f"{cfg.backend.url}/verify/{code}"),
            footer=(str(issued.get("issuer", "宁阳县社会保险事业中心")), "本证明由政务服务自助终端打印"),
        )


def _record_from(name: str, id_number: str, info: dict, history: dict) -> ContributionRecord:
    schemes = tuple(
        SchemeRow(
            name=str(s.get("name_zh") or s.get("name") or s.get("scheme", "")),
            status=str(s.get("status_zh") or s.get("status", "")),
            since=str(s.get("since") or s.get("start", "")),
        )
        for s in info.get("schemes", [])
    )
    per_year: dict[int, list[int]] = {}
    for row in history.get("rows", []):
        year = int(row["year"])
        months, fen = per_year.setdefault(year, [0, 0])
        per_year[year] = [months + int(row.get("months", 1)), fen + int(row.get("amount_fen", 0))]
    years = tuple(YearRow(y, m, f) for y, (m, f) in sorted(per_year.items(), reverse=True))
    return ContributionRecord(
        masked_name=mask_name(name),
        masked_id=mask_id_number(id_number),
        schemes=schemes,
        years=years,
        total_months=sum(y.months for y in years),
    )
