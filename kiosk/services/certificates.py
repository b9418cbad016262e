"""证明打印: the five certificates, issued by the backend and printed once per request.

个人参保缴费证明, 个人权益记录单, 待遇领取证明, 医保参保缴费证明 and 基本医疗保险统筹费用结算明细单 share
one way to print (``CertificateFlow.print_certificate``): the backend issues the certificate
under an idempotency key made from the transaction number, the kiosk lays it out as an A4 page
(``kiosk.services.certificate_pdf``) and prints it on the A4 printer through CUPS when one is
configured, otherwise in receipt form on the receipt printer. A print request is one
``PrintJob`` for the whole session, so a retry after the paper ran out prints the certificate
once, never twice. With a simulated printer the PDF and a PNG preview are kept for reviewers
in ``data_dir/certificates``.

个人参保缴费证明 has its own record screen (``load`` gives a ``ContributionRecord``): the
resident picks the scheme and the months (from lists), previews them and prints exactly
that; the others show their records on the generic query screen (``load`` gives a
``QueryView``).

A certificate is what a resident hands to an office (购房, 落户, 入学): like a counter's, it
names the holder in full, name and ID number, above what the platform certifies, unless the
county sets ``[certificates] mask_personal_data``. Screens, other receipts, logs, the
journal and the outbox stay masked: the full holder exists only in the page and the receipt
built for the paper, and neither shows it in its ``repr``.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.backend.models import CERTIFICATE_MAX_MONTHS, months_between
from kiosk.errors import (
    BackendError,
    BackendProtocolError,
    BackendUnavailableError,
    KioskError,
    PrinterError,
    StoreError,
)
from kiosk.money import yuan
from kiosk.receipt import PrintJob, Receipt
from kiosk.seal import Seal
from kiosk.services import certificate_pdf
from kiosk.services.bill_status import bill_status_zh
from kiosk.services.contribution_record import (
    ContributionRecord,
    MonthRow,
    SchemeRow,
    add_months,
    in_range,
)
from kiosk.services.journey import Outcome
from kiosk.services.queries import (
    SCHEME_EN,
    Choice,
    QueryFlow,
    QueryView,
    Row,
    Section,
    payment_table,
    scheme_rows,
)

if TYPE_CHECKING:
    from kiosk.services.catalogue import ServiceItem
    from kiosk.services.journey import Journey

log = logging.getLogger(__name__)

#: the county named on certificates, by 行政区划代码 (the backend may send its own ``issuer``)
AREA_NAMES = {"370921": "宁阳县", "370911": "泰安市岱岳区", "370902": "泰安市泰山区", "370900": "泰安市"}
ISSUING_BODY = {"social": "社会保险事业中心", "medical": "医疗保障局"}
#: a wider table does not fit a receipt's 32 columns readably
RECEIPT_TABLE_COLUMNS = 3
#: said once on every receipt-form certificate, under its QR code
VERIFY_NOTE = "扫码或访问核验地址可查验真伪"


class CertificateFlow:
    """Issue one certificate at the backend and print it: A4 through CUPS, else a receipt."""

    certificate_kind = ""
    issuing_body = "social"  # or "medical": who the certificate names as issuer
    print_label = ("打印证明", "Print the certificate")

    def __init__(self, item: ServiceItem, journey: Journey) -> None:
        self.item = item
        self.journey = journey
        self.year: int | None = None  # only 结算明细单 is issued for a year

    # blocking: run on a worker thread
    def print_certificate(self) -> Outcome:
        """Issue the certificate, print it, journal it. Safe to call again: it never prints twice.

        The journal's intent ("printing") is written before the backend issues and before each
        print: a store that cannot take it stops the item before anything happens."""
        j = self.journey
        session, ports = j.session, j.ports
        assert session.identity is not None
        txn = session.matter_no
        a4 = ports.a4printer
        identity = session.identity
        entry: dict[str, Any] = {"transaction_no": txn, "item_id": self.item.id, "item_name": self.item.name_zh,
                 "masked_name": identity.masked_name, "masked_id": identity.masked_id}
        try:
            job = session.data.get("print_job")
            if job is None or not job.printed:
                ports.journal.begin(**entry, status="printing")
            if job is None:
                job = self._prepare(txn)
            if a4 is not None:
                self._print_a4(job, a4)
            else:
                printer = ports.devices.device("printer")
                if printer is None:
                    raise KioskError("no printer configured", message_zh="本终端未配置打印机",
                                     message_en="This terminal has no printer")
                job.attempts += 1
                printer.print_job(job)
        except StoreError as e:
            log.error("certificate %s stopped before issuing or printing: the store refused its journal entry: %s",
                      txn, e)
            return Outcome(
                ok=False, title_zh="暂停办理", title_en="This service is paused",
                message_zh=f"{e.message_zh}。证明未打印，请凭参考号到窗口办理。",
                message_en=f"{e.message_en}. Nothing was printed; please show the reference number at a service window.",
                reference=txn,
            )
        except BackendError as e:
            if isinstance(e, (BackendUnavailableError, BackendProtocolError)):
                return self._not_printed(txn, e)
            log.info("certificate %s refused by the backend: %s", txn, e.code)
            ports.journal.drop_intent(txn)  # nothing was issued: nothing to journal
            return Outcome(  # the backend will not certify this (nothing on record): no retry helps
                ok=False, title_zh="无法出具证明", title_en="No certificate can be issued",
                message_zh=f"{e.message_zh}。如有疑问，请凭参考号到窗口咨询。",
                message_en=f"{e.message_en}. Please ask at a service window with the reference number.",
                reference=txn,
            )
        except KioskError as e:
            return self._not_printed(txn, e)
        ports.journal.settle(**entry, amount_fen=None, status="completed")
        where_zh, where_en = (("请在A4打印机出纸口取走您的证明。", "Please take your certificate from the A4 printer. ")
                              if a4 is not None else ("请取走您的证明。", "Please take your certificate. "))
        return Outcome(
            ok=True, title_zh="打印完成", title_en="Printed",
            message_zh=f"{where_zh}证明上的验证码可用于查验真伪。",
            message_en=f"{where_en}Its verification code proves it is genuine.",
            reference=txn, artifacts=tuple(session.data.get("certificate_files", ())),
        )

    def _not_printed(self, txn: str, e: KioskError) -> Outcome:
        log.warning("certificate %s not printed: %s", txn, e)
        return Outcome(
            ok=False, title_zh="打印未完成", title_en="Printing did not finish",
            message_zh=f"{e.message_zh}。您可以重新打印，或凭参考号到窗口办理。",
            message_en=f"{e.message_en}. You can print again, or show the reference number at a service window.",
            reference=txn, can_retry="print" if e.retryable else "",
        )

    def _prepare(self, txn: str) -> PrintJob:
        """Issue once (same key on every retry), lay the page out, keep reviewers' copies."""
        session, ports = self.journey.session, self.journey.ports
        assert session.identity is not None
        issued = ports.backend.certificate(
            session.identity.id_number, self.certificate_kind, idempotency_key=f"{txn}-cert", **self.request()
        )
        page = self.page(txn, issued)
        job = PrintJob(job_id=f"{txn}-cert", receipt=self._receipt(txn, issued))
        session.data["print_job"] = job
        session.data["certificate_page"] = page
        session.data["verification_code"] = page.verification_code
        folder = ports.certificate_copies
        if folder is not None:
            try:
                pdf, png = certificate_pdf.save(page, folder, f"{txn}-{self.certificate_kind}")
            except (OSError, KioskError) as e:  # a reviewer's copy must never stop the resident's print
                log.warning("certificate %s: review copy not written: %s", txn, e)
            else:
                session.data["certificate_files"] = (str(pdf), str(png))
                log.info("certificate %s kept for review as %s", txn, pdf.name)
        return job

    def _print_a4(self, job: PrintJob, a4: Any) -> None:
        if job.printed:
            return
        session, ports = self.journey.session, self.journey.ports
        page = session.data["certificate_page"]
        files = session.data.get("certificate_files")
        spool = ports.config.data_dir / "certificates" / "spool" / f"{job.job_id}.pdf"
        try:
            path = certificate_pdf.write_pdf(page, spool) if not files else Path(files[0])
        except OSError as e:
            raise PrinterError(f"certificate PDF not written for the A4 printer: {e}") from e
        job.attempts += 1
        try:
            request = a4.submit(path, page.title)
        except KioskError as e:
            job.last_error = str(e)
            raise
        finally:
            if path == spool:
                spool.unlink(missing_ok=True)  # CUPS keeps its own copy; the kiosk keeps none
        job.printed = True
        session.data["cups_request"] = request
        log.info("certificate %s sent to CUPS queue %s as %s", job.job_id, a4.queue, request)

    def request(self) -> dict[str, Any]:
        """What the certificate covers, as the backend is asked for it (beyond who and which kind)."""
        return {"year": self.year}

    def _issuer(self, doc: dict) -> str:
        county = AREA_NAMES.get(self.journey.ports.config.terminal.area_code, "")
        return str(doc.get("issuer") or f"{county}{ISSUING_BODY[self.issuing_body]}")

    def _holder(self, doc: dict) -> tuple[tuple[str, str], ...]:
        """姓名 and 证件号码 as the paper gives them: in full, as an office needs them, unless the
        county masks them. Never the identified resident's name on someone else's record."""
        identity = self.journey.session.identity
        assert identity is not None
        named = str(doc.get("holder_masked_id", ""))
        if named and named != identity.masked_id:
            raise BackendError(f"the certificate names holder {named}, not the resident identified",
                               code="holder_mismatch", message_zh="证明所载人员与您的证件不一致",
                               message_en="The certificate names someone other than the card holder")
        if self.journey.ports.config.certificates.mask_personal_data:
            return (("姓名", identity.masked_name), ("证件号码", identity.masked_id))
        return (("姓名", identity.name), ("证件号码", identity.id_number))

    def page(self, txn: str, issued: dict) -> certificate_pdf.CertificatePage:
        """The issued certificate as an A4 page: the holder, then what the platform certifies."""
        doc = issued.get("document", {})
        cfg = self.journey.ports.config
        return certificate_pdf.CertificatePage(
            title=str(doc.get("title", self.item.name_zh)),
            certificate_no=str(issued.get("certificate_no", "")),
            verification_code=str(issued.get("verification_code", "")),
            verify_url=str(issued.get("verify_url", "")),
            issuer=self._issuer(doc),
            issued_on=self.journey.ports.now().date(),
            terminal_id=cfg.terminal.id,
            transaction_no=txn,
            lines=(*self._holder(doc), *((str(k), str(v)) for k, v in doc.get("lines", []))),
            table_header=tuple(str(h) for h in doc.get("table_header", [])),
            table_rows=tuple(tuple(str(c) for c in row) for row in doc.get("table_rows", [])),
            footer=tuple(str(f) for f in doc.get("footer", [])),
            specimen=bool(doc.get("specimen", False)),
        )

    def _receipt(self, txn: str, issued: dict) -> Receipt:
        """The certificate in receipt form: the A4 page's words, seal and verification, on 58 mm."""
        doc = issued.get("document", {})
        now = self.journey.ports.now()
        code = str(issued.get("verification_code", ""))
        url = str(issued.get("verify_url", ""))
        issuer = self._issuer(doc)
        header = tuple(str(h) for h in doc.get("table_header", []))
        rows = tuple(tuple(str(c) for c in row) for row in doc.get("table_rows", []))
        listed: tuple[tuple[str, str], ...] = ()
        if len(header) > RECEIPT_TABLE_COLUMNS:
            # too many columns for 58 mm paper: each row becomes label/value lines instead
            listed = tuple(pair for row in rows for pair in zip(header, row, strict=False))
            header, rows = (), ()
        return Receipt(
            title=str(doc.get("title", self.item.name_zh)),
            transaction_no=txn,
            issued_at=now.strftime("%Y-%m-%d %H:%M:%S"),
            terminal_id=self.journey.ports.config.terminal.id,
            lines=(*self._holder(doc), *((str(k), str(v)) for k, v in doc.get("lines", [])), *listed),
            table_header=header,
            table_rows=rows,
            closing=(
                ("证明编号", str(issued.get("certificate_no", ""))),
                ("验证码", code),
                *((("核验地址", url),) if url else ()),
                ("出具单位", issuer),
                ("打印日期", f"{now.year}年{now.month}月{now.day}日"),
            ),
            seal=Seal(issuer, specimen=bool(doc.get("specimen", False))),
            qr_payload=url or code,
            footer=(VERIFY_NOTE, *(str(f) for f in doc.get("footer", []))),
        )


class ContributionCertificateFlow(CertificateFlow):
    """个人参保缴费证明查询打印: load -> show (record screen) -> print -> result."""

    certificate_kind = "contribution_proof"

    def __init__(self, item: ServiceItem, journey: Journey) -> None:
        super().__init__(item, journey)
        self.record: ContributionRecord | None = None
        self._years: dict[int, list[dict]] = {}  # the backend's rows by year, for this session

    @property
    def _id_number(self) -> str:
        identity = self.journey.session.identity
        assert identity is not None
        return identity.id_number

    def request(self) -> dict[str, Any]:
        r = self.record
        if r is None or not r.scheme:
            return {}
        return {"scheme": r.scheme, "period_from": r.start, "period_to": r.end}

    # blocking: run on a worker thread
    def load(self) -> ContributionRecord:
        """The first scheme on record over its latest year with contributions."""
        backend = self.journey.ports.backend
        info = backend.insurance_info(self._id_number)
        self.journey.session.data["insurance"] = info
        latest = backend.contributions(self._id_number)
        if latest.get("year") is not None:
            self._years[int(latest["year"])] = latest.get("rows", [])
        months_paid = {}
        if info.get("schemes"):
            months_paid = {s["scheme"]: int(s["months_paid"])
                           for s in backend.rights_record(self._id_number).get("schemes", [])}
        schemes = tuple(
            SchemeRow(name=str(x.get("name_zh", x.get("scheme", ""))), status=str(x.get("status_zh", x.get("status", ""))),
                      since=str(x.get("start", "")), scheme=str(x.get("scheme", "")),
                      months_paid=months_paid.get(str(x.get("scheme", ""))), unit=str(x.get("unit") or ""))
            for x in info.get("schemes", [])
        )
        # the last month on record or this month, whichever is later (the two clocks may differ)
        months_on_record = [str(x["period"]) for x in latest.get("rows", []) if len(str(x["period"])) == 7]
        last = max([f"{self.journey.ports.now():%Y-%m}", *months_on_record])
        base = ContributionRecord(
            masked_name=str(info.get("masked_name", "")), masked_id=str(info.get("masked_id", "")),
            insured=bool(info.get("insured", bool(schemes))), schemes=schemes,
            years=tuple(sorted((int(y) for y in latest.get("years", [])), reverse=True)), latest=last,
        )
        self.record = base
        if schemes:
            self.record = self._over(base, schemes[0].scheme, *self._default_range(base, schemes[0].scheme))
        return self.record

    # blocking: run on a worker thread
    def choose(self, scheme: str | None = None, start: str | None = None, end: str | None = None) -> ContributionRecord:
        """Another scheme (over its latest year), or another first or last month.

        The range always holds at least one month and at most ``CERTIFICATE_MAX_MONTHS``: moving
        one end past the other, or too far from it, brings the other end along.
        """
        r = self.record
        assert r is not None and not r.empty, "choose after a record with schemes was loaded"
        if scheme is not None and scheme != r.scheme:
            self.record = self._over(r, scheme, *self._default_range(r, scheme))
            return self.record
        first, last = start or r.start, end or r.end
        if start is not None:
            last = max(first, min(last, add_months(first, CERTIFICATE_MAX_MONTHS - 1), r.latest))
        elif end is not None:
            first = min(last, max(first, add_months(last, 1 - CERTIFICATE_MAX_MONTHS)))
        self.record = self._over(r, r.scheme, first, last)
        return self.record

    def _rows(self, year: int) -> list[dict]:
        if year not in self._years:
            self._years[year] = self.journey.ports.backend.contributions(self._id_number, year).get("rows", [])
        return self._years[year]

    def _default_range(self, r: ContributionRecord, scheme: str) -> tuple[str, str]:
        """The scheme's latest year with contributions: its first to its last month on record."""
        for year in r.years:
            mine = [x for x in self._rows(year) if x.get("scheme") == scheme]
            if mine:
                first, last = str(mine[0]["period"]), str(mine[-1]["period"])
                start = first if len(first) == 7 else f"{year}-01"
                end = last if len(last) == 7 else min(f"{year}-12", r.latest)
                return start, end
        return f"{r.latest[:4]}-01", r.latest

    def _over(self, r: ContributionRecord, scheme: str, start: str, end: str) -> ContributionRecord:
        assert 1 <= months_between(start, end) <= CERTIFICATE_MAX_MONTHS, (start, end)
        months = tuple(
            MonthRow(period=str(x["period"]), scheme=str(x.get("scheme_zh", scheme)), personal_fen=int(x["personal_fen"]),
                     status=bill_status_zh(x["status"]), code=str(x["status"]))
            for year in range(int(start[:4]), int(end[:4]) + 1)
            for x in self._rows(year)
            if x.get("scheme") == scheme and in_range(str(x["period"]), start, end)
        )
        return replace(r, scheme=scheme, start=start, end=end, months=months)


class _ShownCertificateFlow(CertificateFlow, QueryFlow):
    """A certificate whose record is shown on the query screen first, with a print action."""

    def __init__(self, item: ServiceItem, journey: Journey) -> None:
        CertificateFlow.__init__(self, item, journey)
        self.view: QueryView | None = None

    def _printable(self, view: QueryView) -> QueryView:
        if view.empty:
            return view
        return QueryView(view.title_zh, view.title_en, view.who, view.message_zh, view.message_en, view.sections,
                         choices=view.choices, chosen=view.chosen,
                         print_zh=self.print_label[0], print_en=self.print_label[1])

    def load(self) -> QueryView:
        self.view = self._printable(self._build(None))
        return self.view

    def choose(self, value: int) -> QueryView:
        self.view = self._printable(self._build(value))
        return self.view


class RightsRecordFlow(_ShownCertificateFlow):
    """个人权益记录查询打印."""

    certificate_kind = "rights_record"
    title = ("个人权益记录", "Social insurance rights record")
    print_label = ("打印权益记录单", "Print the rights record")

    def _build(self, choice: int | None) -> QueryView:
        rec = self.journey.ports.backend.rights_record(self.id_number)
        schemes = rec.get("schemes", [])
        if not schemes:
            return self.empty_view("未查询到您的个人权益记录。如有疑问，请到社保窗口咨询。",
                                   "No rights record was found. Please ask at a social-security window.")
        sections = []
        for s in schemes:
            rows = [Row("参保状态", "Status", str(s["status_zh"])), Row("参保起始", "Since", str(s["start"])),
                    Row("累计缴费", "Months paid", f"{s['months_paid']}个月")]
            if not s["scheme"].endswith("medical_resident"):
                rows.append(Row("个人账户", "Personal account", yuan(int(s["personal_account_fen"]))))
            rows.append(Row("最近缴费", "Last paid", str(s.get("last_paid") or "无")))
            sections.append(Section(str(s["scheme_zh"]), SCHEME_EN.get(s["scheme"], ""), tuple(rows)))
        return QueryView(self.title[0], self.title[1], self.who, f"记录截至 {rec.get('as_of', '')}",
                         f"As of {rec.get('as_of', '')}", tuple(sections))


class BenefitCertificateFlow(_ShownCertificateFlow):
    """待遇领取证明查询打印: the pension paid, the last payments, the 资格认证 dates."""

    certificate_kind = "benefit_proof"
    title = ("待遇领取情况", "Benefits received")
    print_label = ("打印待遇领取证明", "Print proof of benefits")

    def _build(self, choice: int | None) -> QueryView:
        answer = self.journey.ports.backend.benefits(self.id_number)
        benefits = answer.get("benefits", [])
        if not answer.get("receiving") or not benefits:
            return self.empty_view("未查询到您的待遇领取记录，无法出具待遇领取证明。如有疑问，请到社保窗口咨询。",
                                   "No benefit is being paid to you, so no proof can be printed.")
        sections = []
        for b in benefits:
            rows = (Row("待遇类别", "Benefit", f"{b['scheme_zh']} {b['kind_zh']}"),
                    Row("领取起始", "Paid since", str(b["since"])),
                    Row("月待遇", "Monthly", yuan(int(b["monthly_fen"]))),
                    Row("资格认证", "Last certified", str(b["qualification_certified_on"])),
                    Row("下次认证截止", "Certify again by", str(b["qualification_due_by"])))
            sections.append(Section(str(b["kind_zh"]), "Pension", rows, payment_table(b.get("payments", []))))
        first = benefits[0]
        return QueryView(self.title[0], self.title[1], self.who,
                         f"每月领取 {yuan(int(first['monthly_fen']))}",
                         f"{yuan(int(first['monthly_fen']))} a month", tuple(sections))


class MedicalCertificateFlow(_ShownCertificateFlow):
    """医疗保险参保缴费证明打印."""

    certificate_kind = "medical_contribution_proof"
    issuing_body = "medical"
    title = ("医疗保险参保缴费情况", "Medical insurance contributions")
    print_label = ("打印医保参保缴费证明", "Print the medical insurance certificate")

    def _build(self, choice: int | None) -> QueryView:
        backend = self.journey.ports.backend
        info = backend.insurance_info(self.id_number)
        medical = [s for s in info.get("schemes", []) if s["scheme"].startswith("medical")]
        if not medical:
            return self.empty_view("未查询到您的医疗保险参保记录，无法出具证明。可在本终端缴纳城乡居民医保费。",
                                   "No medical insurance is on record, so no certificate can be printed.")
        rights = {s["scheme"]: s for s in backend.rights_record(self.id_number).get("schemes", [])}
        sections = tuple(Section(str(s["name_zh"]), SCHEME_EN.get(s["scheme"], ""), scheme_rows(s, rights.get(s["scheme"])))
                         for s in medical)
        return QueryView(self.title[0], self.title[1], self.who, str(medical[0]["name_zh"]),
                         "Medical insurance", sections)


class MedicalSettlementFlow(_ShownCertificateFlow):
    """打印基本医疗保险统筹费用结算明细单, for a year the resident picks."""

    certificate_kind = "medical_settlement"
    issuing_body = "medical"
    title = ("统筹费用结算明细单", "Medical insurance settlement statement")
    print_label = ("打印结算明细单", "Print the settlement statement")

    def _build(self, choice: int | None) -> QueryView:
        this_year = self.journey.ports.now().year
        self.year = choice or this_year
        info = self.journey.ports.backend.insurance_info(self.id_number)
        medical = [s for s in info.get("schemes", []) if s["scheme"].startswith("medical")]
        if not medical:
            return self.empty_view("未查询到您的医疗保险参保记录，没有统筹费用结算明细。",
                                   "No medical insurance is on record, so there is no settlement statement.")
        choices = tuple(Choice(y, f"{y}年", str(y)) for y in range(this_year, this_year - 3, -1))
        s = medical[0]
        section = Section(str(s["name_zh"]), SCHEME_EN.get(s["scheme"], ""),
                          (Row("参保状态", "Status", str(s["status_zh"])), Row("结算年度", "Year", f"{self.year}年")),
                          note_zh="住院等统筹基金支付的费用明细将打印在结算明细单上。",
                          note_en="The settlements paid by the pooled fund are printed on the statement.")
        return QueryView(self.title[0], self.title[1], self.who, f"请选择结算年度，然后点击打印（已选 {self.year}年）",
                         f"Pick the year, then print ({self.year} chosen)", (section,),
                         choices=choices, chosen=self.year)

