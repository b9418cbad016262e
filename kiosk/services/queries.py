"""查询: the resident's records as a view the generic query screen can show, page by page.

A query flow asks the backend (blocking, on a worker) and turns the answer into a
``QueryView``: a title, sections of label/value rows and tables, optional year choices and
an optional print action (the certificate flows in ``kiosk.services.certificates`` reuse the
same view). ``QueryView.pages`` cuts the view into pages that fit on the screen without
scrolling, few rows each, so a 70-year-old can read them in large type. Nothing on record is
said plainly in a sentence, never as an empty table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kiosk.errors import BackendError, BackendProtocolError, BackendUnavailableError
from kiosk.money import yuan
from kiosk.services.bill_status import UNPAID, bill_status_zh
from kiosk.services.journey import Outcome

if TYPE_CHECKING:
    from kiosk.services.catalogue import ServiceItem
    from kiosk.services.journey import Journey

#: table cells are short: the scheme's full name is in the section titles
SCHEME_SHORT = {
    "pension_employee": "职工养老",
    "pension_resident": "居民养老",
    "pension_flexible": "灵活就业养老",
    "medical_employee": "职工医保",
    "medical_resident": "居民医保",
}
SCHEME_SHORT_EN = {
    "pension_employee": "Employee pension",
    "pension_resident": "Resident pension",
    "pension_flexible": "Self-employed pension",
    "medical_employee": "Employee medical",
    "medical_resident": "Resident medical",
}
SCHEME_EN = {
    "pension_employee": "Employee basic pension insurance",
    "pension_resident": "Resident basic pension insurance",
    "pension_flexible": "Pension insurance for the self-employed",
    "medical_employee": "Employee basic medical insurance",
    "medical_resident": "Resident basic medical insurance",
}


def unpaid_fen(rows: list[dict]) -> int:
    """What the rows still owe (应缴未缴), in fen."""
    return sum(int(r["personal_fen"]) for r in rows if r.get("status") in UNPAID)


#: a query that could not be finished: the result's title, and what the resident can do next
QUERY_FAILED = ("查询未完成", "The query did not finish")
QUERY_FAILED_THEN = ("请稍后再试，或凭参考号到窗口咨询。",
                     "Please try again later, or ask at a window with the reference number.")


# --- the view model ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One label/value line, e.g. 参保状态: 参保缴费."""

    label_zh: str
    label_en: str
    value: str


@dataclass(frozen=True)
class TableView:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    empty_zh: str = "暂无记录"
    empty_en: str = "Nothing on record"


@dataclass(frozen=True)
class Section:
    title_zh: str
    title_en: str
    rows: tuple[Row, ...] = ()
    table: TableView | None = None
    note_zh: str = ""  # a plain sentence under the section
    note_en: str = ""


@dataclass(frozen=True)
class Choice:
    value: int
    label_zh: str
    label_en: str


@dataclass(frozen=True)
class Panel:
    """What one page shows of one section: its rows and a slice of its table."""

    title_zh: str
    title_en: str
    rows: tuple[Row, ...] = ()
    header: tuple[str, ...] = ()
    body: tuple[tuple[str, ...], ...] = ()
    note_zh: str = ""
    note_en: str = ""

    @property
    def lines(self) -> int:
        """Screen lines this panel takes (title, rows, table header and rows, note)."""
        return 1 + len(self.rows) + (1 + len(self.body) if self.header else 0) + (1 if self.note_zh else 0)


@dataclass(frozen=True)
class QueryView:
    title_zh: str
    title_en: str
    who: str  # masked name and masked ID number
    message_zh: str  # the summary, or the sentence saying nothing is on record
    message_en: str
    sections: tuple[Section, ...] = ()
    empty: bool = False
    choices: tuple[Choice, ...] = ()  # e.g. years, picked with big buttons
    chosen: int | None = None
    print_zh: str = ""  # label of the print action; empty: nothing to print
    print_en: str = ""

    @property
    def can_print(self) -> bool:
        return bool(self.print_zh) and not self.empty

    def pages(self, lines_per_page: int = 10) -> list[tuple[Panel, ...]]:
        """The view cut into pages of at most ``lines_per_page`` lines (a page holds at least one panel)."""
        panels: list[Panel] = []
        for s in self.sections:
            table = s.table
            if table is None or not table.rows:
                note_zh = s.note_zh or (table.empty_zh if table else "")
                note_en = s.note_en or (table.empty_en if table else "")
                panels.append(Panel(s.title_zh, s.title_en, s.rows, note_zh=note_zh, note_en=note_en))
                continue
            room = max(1, lines_per_page - 2 - len(s.rows) - (1 if s.note_zh else 0))
            first, rest = table.rows[:room], table.rows[room:]
            panels.append(Panel(s.title_zh, s.title_en, s.rows, table.header, first, s.note_zh, s.note_en))
            step = max(1, lines_per_page - 2)
            for i in range(0, len(rest), step):
                panels.append(Panel(f"{s.title_zh}（续）", f"{s.title_en} (continued)", (), table.header,
                                    rest[i : i + step]))
        pages: list[list[Panel]] = []
        used = lines_per_page
        for p in panels:
            if used + p.lines > lines_per_page:
                pages.append([])
                used = 0
            pages[-1].append(p)
            used += p.lines
        return [tuple(p) for p in pages] or [()]


# --- the flows --------------------------------------------------------------------------------


class QueryFlow:
    """Shared by every flow the query screen shows: load, optional choice, done."""

    title = ("", "")

    def __init__(self, item: ServiceItem, journey: Journey) -> None:
        self.item = item
        self.journey = journey
        self.view: QueryView | None = None

    @property
    def id_number(self) -> str:
        identity = self.journey.session.identity
        assert identity is not None, "a query runs only for an identified resident"
        return identity.id_number

    @property
    def who(self) -> str:
        identity = self.journey.session.identity
        return f"{identity.masked_name}    {identity.masked_id}" if identity else ""

    # blocking: run on a worker thread
    def load(self) -> QueryView:
        self.view = self._build(None)
        return self.view

    # blocking: run on a worker thread
    def choose(self, value: int) -> QueryView:
        """The resident picked another year."""
        self.view = self._build(value)
        return self.view

    def _build(self, choice: int | None) -> QueryView:
        raise NotImplementedError

    def empty_view(self, zh: str, en: str, **more) -> QueryView:
        return QueryView(self.title[0], self.title[1], self.who, zh, en, empty=True, **more)

    def refused(self, e: BackendError) -> QueryView:
        """The backend said no for a reason the resident should read (not a fault): say it."""
        if isinstance(e, (BackendUnavailableError, BackendProtocolError)):
            raise e
        return self.empty_view(e.message_zh, e.message_en)

    # blocking (journal write): run on a worker thread
    def done(self) -> Outcome:
        """The resident has read the record: the matter is complete, journalled once."""
        j = self.journey
        txn = j.session.matter_no
        identity = j.session.identity
        j.ports.journal.record(
            transaction_no=txn, item_id=self.item.id, item_name=self.item.name_zh, status="completed",
            masked_name=identity.masked_name if identity else "", masked_id=identity.masked_id if identity else "",
        )
        view = self.view
        return Outcome(
            ok=True, title_zh="查询完成", title_en="Query finished",
            message_zh=view.message_zh if view else "", message_en=view.message_en if view else "",
            reference=txn,
        )


def scheme_rows(scheme: dict, rights: dict | None) -> tuple[Row, ...]:
    """A scheme's enrolment as rows, with months paid and the last paid period when known."""
    rows = [Row("参保状态", "Status", str(scheme.get("status_zh", "")))]
    if scheme.get("unit"):
        rows.append(Row("参保单位", "Employer", str(scheme["unit"])))
    rows.append(Row("参保起始", "Since", str(scheme.get("start", ""))))
    if rights is not None:
        rows.append(Row("累计缴费", "Months paid", f"{rights.get('months_paid', 0)}个月"))
        rows.append(Row("最近缴费", "Last paid", str(rights.get("last_paid") or "无")))
    return tuple(rows)


class InsuranceQueryFlow(QueryFlow):
    """参保信息查询; ``params.scheme = "medical"`` shows medical insurance only."""

    @property
    def medical_only(self) -> bool:
        return self.item.params.get("scheme") == "medical"

    @property
    def title(self) -> tuple[str, str]:  # type: ignore[override]
        if self.medical_only:
            return ("医疗保险参保信息", "Medical insurance enrolment")
        return ("社会保险参保信息", "Social insurance enrolment")

    def _build(self, choice: int | None) -> QueryView:
        backend = self.journey.ports.backend
        info = backend.insurance_info(self.id_number)
        schemes = [s for s in info.get("schemes", []) if not self.medical_only or s["scheme"].startswith("medical")]
        if not schemes:
            if self.medical_only:
                return self.empty_view(
                    "未查询到您的医疗保险参保信息。可在本终端缴纳城乡居民医保费，或到医保窗口咨询。",
                    "No medical insurance was found. You can pay the resident contribution here or ask at a window.")
            return self.empty_view("未查询到您的社会保险参保信息。如需参保，请到社保窗口咨询。",
                                   "No social insurance was found. Please ask at a social-security window.")
        rights = {s["scheme"]: s for s in backend.rights_record(self.id_number).get("schemes", [])}
        sections = tuple(
            Section(str(s["name_zh"]), SCHEME_EN.get(s["scheme"], ""), scheme_rows(s, rights.get(s["scheme"])))
            for s in schemes
        )
        return QueryView(self.title[0], self.title[1], self.who,
                         f"您参加了 {len(schemes)} 个险种", f"Enrolled in {len(schemes)} scheme(s)", sections)


class ContributionHistoryFlow(QueryFlow):
    """缴费明细, one year at a time; the years on record are big buttons."""

    title = ("社会保险缴费明细", "Contribution history")

    def _build(self, choice: int | None) -> QueryView:
        history = self.journey.ports.backend.contributions(self.id_number, choice)
        years = [int(y) for y in history.get("years", [])]
        if not years:
            return self.empty_view("未查询到您的缴费记录。如有疑问，请到社保窗口咨询。",
                                   "No contributions were found. Please ask at a social-security window.")
        year = history.get("year")
        choices = tuple(Choice(y, f"{y}年", str(y)) for y in sorted(years, reverse=True))
        rows = history.get("rows", [])
        if not rows:
            return QueryView(self.title[0], self.title[1], self.who, f"{year}年没有缴费记录",
                             f"No contributions in {year}", (), choices=choices, chosen=year)
        paid = [r for r in rows if r.get("status") == "paid"]
        due = unpaid_fen(rows)
        summary = (
            Row("个人缴费合计", "Paid by you", yuan(int(history.get("total_personal_fen", 0)))),
            Row("单位或补贴合计", "Employer or subsidy", yuan(int(history.get("total_unit_fen", 0)))),
            Row("已缴笔数", "Payments made", f"{len(paid)} 笔"),
            *((Row("应缴未缴", "Due, not yet paid", yuan(due)),) if due else ()),
        )
        table = TableView(
            ("年月", "险种", "个人缴费", "状态"),
            tuple((str(r["period"]), SCHEME_SHORT.get(r["scheme"], str(r.get("scheme_zh", ""))),
                   yuan(int(r["personal_fen"])), bill_status_zh(r["status"])) for r in rows),
        )
        unpaid = len(rows) - len(paid)
        note = (f"其中 {unpaid} 笔尚未缴纳", f"{unpaid} not paid yet") if unpaid else ("", "")
        return QueryView(
            self.title[0], self.title[1], self.who,
            f"{year}年个人缴费合计 {yuan(int(history.get('total_personal_fen', 0)))}",
            f"Paid by you in {year}: {yuan(int(history.get('total_personal_fen', 0)))}",
            (Section(f"{year}年缴费明细", f"Contributions in {year}", summary, table, *note),),
            choices=choices, chosen=year,
        )


class MedicalAccountFlow(QueryFlow):
    """医保个人账户: balance and the year's movements, newest first."""

    title = ("医保个人账户", "Medical insurance personal account")

    def _build(self, choice: int | None) -> QueryView:
        try:
            acct = self.journey.ports.backend.medical_account(self.id_number, choice)
        except BackendError as e:
            return self.refused(e)
        year = int(acct["year"])
        this_year = self.journey.ports.now().year
        choices = tuple(Choice(y, f"{y}年", str(y)) for y in range(max(year, this_year), max(year, this_year) - 3, -1))
        moves = acct.get("movements", [])
        credits = sum(int(m["amount_fen"]) for m in moves if m["kind"] == "credit")
        debits = sum(int(m["amount_fen"]) for m in moves if m["kind"] == "debit")
        rows = (
            Row("账户余额", "Balance", yuan(int(acct["balance_fen"]))),
            Row(f"{year}年初余额", "Opening balance", yuan(int(acct["opening_balance_fen"]))),
            Row("本年划入", "Paid in", yuan(credits)),
            Row("本年支出", "Spent", yuan(debits)),
        )
        table = TableView(
            ("日期", "摘要", "收支", "余额"),
            tuple((str(m["date"]), str(m["description_zh"]),
                   ("+" if m["kind"] == "credit" else "-") + yuan(int(m["amount_fen"])), yuan(int(m["balance_fen"])))
                  for m in reversed(moves)),
            f"{year}年没有收支记录", f"No movements in {year}",
        )
        return QueryView(
            self.title[0], self.title[1], self.who,
            f"账户余额 {yuan(int(acct['balance_fen']))}", f"Balance {yuan(int(acct['balance_fen']))}",
            (Section(f"{year}年收支明细", f"Statement {year}", rows, table),), choices=choices, chosen=year,
        )


def payment_table(payments: list[dict]) -> TableView:
    return TableView(
        ("发放年月", "金额", "发放日期", "银行"),
        tuple((str(p["period"]), yuan(int(p["amount_fen"])), str(p["paid_on"]),
               f"{p.get('bank_zh', '')} {p.get('masked_account', '')}".strip()) for p in reversed(payments)),
        "暂无发放记录", "No payments yet",
    )


class ResidentPensionQueryFlow(QueryFlow):
    """城乡居民养老保险: the yearly contributions, the personal account and the pension paid."""

    title = ("城乡居民养老缴费及待遇", "Resident pension: contributions and payments")

    def _build(self, choice: int | None) -> QueryView:
        backend = self.journey.ports.backend
        rp = backend.resident_pension(self.id_number)
        if not rp.get("insured"):
            return self.empty_view("未查询到您的城乡居民养老保险参保信息。如需参保，请到社保窗口咨询。",
                                   "You are not in the resident pension scheme. Please ask at a social-security window.")
        rows = [Row("参保状态", "Status", str(rp.get("status_zh", ""))),
                Row("个人账户储存额", "Personal account", yuan(int(rp.get("personal_account_fen", 0))))]
        contributions = rp.get("contributions", [])
        table = TableView(
            ("年度", "个人缴费", "政府补贴", "状态"),
            tuple((str(c["year"]), yuan(int(c["personal_fen"])), yuan(int(c["subsidy_fen"])),
                   bill_status_zh(c["status"])) for c in reversed(contributions)),
            "暂无缴费记录", "No contributions yet",
        )
        sections = [Section("缴费情况", "Contributions", tuple(rows), table)]
        benefit = rp.get("benefit")
        message = (f"个人账户储存额 {yuan(int(rp.get('personal_account_fen', 0)))}",
                   f"Personal account {yuan(int(rp.get('personal_account_fen', 0)))}")
        if benefit:
            paid = next((b for b in backend.benefits(self.id_number).get("benefits", [])
                         if b.get("scheme") == "pension_resident"), None)
            sections.append(Section(
                "养老金领取", "Pension paid",
                (Row("月养老金", "Monthly pension", yuan(int(benefit["monthly_fen"]))),
                 Row("领取起始", "Paid since", str(benefit["since"]))),
                payment_table(paid["payments"]) if paid else None,
            ))
            message = (f"每月领取养老金 {yuan(int(benefit['monthly_fen']))}",
                       f"Pension of {yuan(int(benefit['monthly_fen']))} a month")
        return QueryView(self.title[0], self.title[1], self.who, *message, tuple(sections))

