"""个人参保缴费证明's content: one scheme over a range of months, as shown and as certified.

The record screen shows a ``ContributionRecord`` and the paper certifies the same: the rows
in the same words (``MonthRow.cells`` under ``MONTH_HEADER``), the same facts
(``ContributionRecord.facts``, worded as the certificate's lines) and the same sums. What was
paid and what is owed are counted apart: 个人缴费合计 is only what the resident paid,
应缴未缴 what the range still owes. ``ContributionCertificateFlow``
(``kiosk.services.certificates``) fills it from the backend.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.money import yuan
from kiosk.services.bill_status import UNPAID

#: the contribution certificate's table: the record screen shows these columns, the paper too
MONTH_COLUMNS = (("年月", "Month"), ("个人缴费", "Personal contribution"), ("状态", "Status"))
MONTH_HEADER = tuple(zh for zh, _en in MONTH_COLUMNS)


@dataclass(frozen=True)
class SchemeRow:
    name: str
    status: str
    since: str
    scheme: str = ""  # pension_employee ...
    months_paid: int | None = None  # 累计缴费月数, as the rights record counts them
    unit: str = ""  # 参保单位, for employees


@dataclass(frozen=True)
class MonthRow:
    period: str  # "2026-03", or "2026" for a yearly contribution
    scheme: str
    personal_fen: int
    status: str  # in words: 已缴, 待缴 ... (kiosk.services.bill_status)
    code: str = "paid"  # as the backend says it: paid, due, arrears

    @property
    def paid(self) -> bool:
        return self.code == "paid"

    @property
    def due(self) -> bool:
        """Owed for the month and not paid yet (应缴未缴)."""
        return self.code in UNPAID

    @property
    def cells(self) -> tuple[str, str, str]:
        """The row as the screen and the paper show it (``MONTH_HEADER``)."""
        return (self.period, yuan(self.personal_fen), self.status)


@dataclass(frozen=True)
class ContributionRecord:
    """What the record screen shows and the certificate certifies: one scheme, a range of months.

    What was paid and what is due are counted apart: 个人缴费合计 is what the resident paid,
    应缴未缴 what is owed for the range and not paid yet.
    """

    masked_name: str
    masked_id: str
    insured: bool
    schemes: tuple[SchemeRow, ...]
    scheme: str = ""  # the chosen scheme's id
    start: str = ""  # YYYY-MM, the first month covered
    end: str = ""  # YYYY-MM, the last month covered
    months: tuple[MonthRow, ...] = ()
    years: tuple[int, ...] = ()  # years on record, newest first: what the pickers offer
    latest: str = ""  # YYYY-MM: the last month one can pick (this month, or the last on record)

    @property
    def empty(self) -> bool:
        return not self.insured and not self.schemes

    @property
    def chosen(self) -> SchemeRow | None:
        return next((s for s in self.schemes if s.scheme == self.scheme), None)

    @property
    def year(self) -> int | None:
        return int(self.end[:4]) if self.end else None

    @property
    def paid_fen(self) -> int:
        return sum(m.personal_fen for m in self.months if m.paid)

    @property
    def due_fen(self) -> int:
        return sum(m.personal_fen for m in self.months if m.due)

    @property
    def due_months(self) -> int:
        return sum(1 for m in self.months if m.due)

    @property
    def rows(self) -> tuple[tuple[str, str, str], ...]:
        return tuple(m.cells for m in self.months)

    @property
    def facts(self) -> tuple[tuple[str, str], ...]:
        """The certificate's lines about the scheme and the range, as the paper words them."""
        s = self.chosen
        if s is None:
            return ()
        return (
            ("险种", s.name),
            ("参保状态", s.status),
            ("参保起始年月", s.since),
            *((("累计缴费月数", f"{s.months_paid}个月"),) if s.months_paid is not None else ()),
            ("缴费起止年月", f"{self.start}至{self.end}"),
            ("个人缴费合计", yuan(self.paid_fen)),
            ("应缴未缴", yuan(self.due_fen)),
            *((("参保单位", s.unit),) if s.unit else ()),
        )

    def months_for(self, year: int) -> tuple[int, ...]:
        """The months of ``year`` that can be picked (none after this month)."""
        last = int(self.latest[5:7]) if self.latest and year == int(self.latest[:4]) else 12
        return tuple(range(1, last + 1))


def add_months(period: str, n: int) -> str:
    """``add_months("2026-11", 3) == "2027-02"``."""
    index = int(period[:4]) * 12 + int(period[5:7]) - 1 + n
    return f"{index // 12}-{index % 12 + 1:02d}"


def in_range(period: str, start: str, end: str) -> bool:
    """Whether a row's period (YYYY-MM, or YYYY for a yearly contribution) lies in start..end."""
    if len(period) == 4:
        return start[:4] <= period <= end[:4]
    return start <= period <= end
