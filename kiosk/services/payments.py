"""缴费: water, electricity and gas bills and social-insurance contributions, paid by QR code.

Two flows share one payment path (``PaymentFlow``):

* ``UtilityPaymentFlow`` (水费 / 电费 / 燃气费, ``params.utility``): account number on the
  keypad -> the bills due -> confirm -> QR -> receipt.
* ``ContributionPaymentFlow`` (城乡居民养老 / 城乡居民医保 / 灵活就业养老): the identified
  resident -> the year and the grades the backend offers -> pick one -> QR -> receipt.

The backend prices every order; the terminal only shows what it is told. How a payment ends
is decided once per session (``PaymentFlow.outcome``): paid (receipt printed, journaled
``completed``), not paid (closed or expired, ``cancelled``), or unknown (``paid_unconfirmed``,
settled later by ``payment_order.settle_unconfirmed``). The order rules themselves live in
``kiosk.services.payment_order``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kiosk.errors import BackendError, JourneyError
from kiosk.identity import mask_number
from kiosk.money import yuan
from kiosk.services.bill_status import bill_status_zh
from kiosk.services.payment_order import Charge, PaymentFlow, PayState, QrView

__all__ = ["Charge", "ContributionChoice", "ContributionPaymentFlow", "Grade", "PayState", "PaymentFlow",
           "QrView", "UtilityPaymentFlow"]

if TYPE_CHECKING:
    from kiosk.services.catalogue import ServiceItem
    from kiosk.services.journey import Journey

UTILITY_NAMES = {"water": ("水费", "water"), "electricity": ("电费", "electricity"), "gas": ("燃气费", "gas")}
ACCOUNT_DIGITS = (8, 12)
#: catalogue flow -> the backend's scheme
SCHEMES = {
    "resident_pension_payment": "pension_resident",
    "resident_medical_payment": "medical_resident",
    "flexible_pension_payment": "pension_flexible",
}
#: social-insurance contributions are collected by the tax authority (社保费由税务部门征收)
CONTRIBUTION_PAYEE = ("税务部门（社会保险费征收）", "Tax bureau (social insurance contributions)")


@dataclass(frozen=True)
class Grade:
    grade_id: str
    amount_fen: int
    label_zh: str


@dataclass(frozen=True)
class ContributionChoice:
    """What the backend offers this resident for this scheme."""

    scheme_zh: str
    masked_name: str
    masked_id: str
    eligible: bool
    reason_zh: str
    year: int | None
    grades: tuple[Grade, ...]
    months_max: int


class UtilityPaymentFlow(PaymentFlow):
    """水费 / 电费 / 燃气费: account number -> bills due -> pay."""

    def __init__(self, item: ServiceItem, journey: Journey, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(item, journey, clock)
        self.utility = str((item.params or {}).get("utility", ""))
        if self.utility not in UTILITY_NAMES:
            raise JourneyError(f"item {item.id}: unknown utility {self.utility!r}")

    def load_bill(self, account_no: str) -> Charge:
        """The bills of an account. Blocking. A wrong number raises with a resident message."""
        lo, hi = ACCOUNT_DIGITS
        if not (account_no.isdigit() and lo <= len(account_no) <= hi):
            raise JourneyError(
                "account number has the wrong length",
                message_zh=f"户号为{lo}至{hi}位数字，请核对后重新输入",
                message_en=f"An account number has {lo} to {hi} digits; please check it",
            )
        if self.payment.order is not None:
            raise JourneyError("this session already has a payment order")
        try:
            statement = self.journey.ports.backend.bill(self.utility, account_no)
        except BackendError as e:
            if e.code == "account_not_found":
                raise JourneyError(str(e), message_zh="未查询到该户号，请核对后重新输入",
                                   message_en="No such account number; please check it") from e
            raise
        session = self.journey.session
        session.data["account_no"] = account_no
        session.data["bill"] = statement
        due = [b for b in statement["bills"] if b["status"] == "due"]
        name_zh, name_en = UTILITY_NAMES[self.utility]
        self.charge = Charge(
            title_zh=str(statement.get("utility_zh") or name_zh),
            payee_zh=str(statement.get("company_zh", "")),
            payee_en=f"The {name_en} company",
            payer_masked=str(statement.get("holder_masked_name", "")),
            lines=(
                ("户号", mask_number(account_no)),
                ("户名", str(statement.get("holder_masked_name", ""))),
                ("账期", _periods_text(due)),
            ),
            amount_fen=int(statement.get("total_due_fen", 0)),
            table_header=("账期", "用量", "金额", "状态"),
            table_rows=tuple(
                (str(b["period"]), f"{b['usage']}{b['unit_zh']}", yuan(int(b["amount_fen"])),
                 bill_status_zh(b["status"]))
                for b in statement["bills"]
            ),
            payable=bool(due),
            settled=not due,
            reason_zh="" if due else "该户号没有待缴账单，无需缴费",
            reason_en="" if due else "Nothing is due on this account",
        )
        return self.charge

    def _order_request(self) -> dict:
        session = self.journey.session
        bill = session.data["bill"]
        return {
            "purpose": "bill",
            "utility": self.utility,
            "account_no": session.data["account_no"],
            # exactly the bills the resident confirmed, not whatever is due when the order lands
            "bill_ids": [b["bill_id"] for b in bill["bills"] if b["status"] == "due"],
        }

    def _journal_who(self) -> tuple[str, str]:
        return (self.charge.payer_masked if self.charge else "", "")


class ContributionPaymentFlow(PaymentFlow):
    """城乡居民养老 / 城乡居民医保 / 灵活就业养老: the identified resident picks a grade."""

    def __init__(self, item: ServiceItem, journey: Journey, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(item, journey, clock)
        self.scheme = SCHEMES.get(item.flow or "", "")
        if not self.scheme:
            raise JourneyError(f"item {item.id}: no contribution scheme for flow {item.flow!r}")
        self.choice: ContributionChoice | None = None

    def load_options(self) -> ContributionChoice:
        """The year and grades on offer. Blocking."""
        identity = self.journey.session.identity
        if identity is None:
            raise JourneyError("no resident identified")
        opts = self.journey.ports.backend.contribution_options(identity.id_number, self.scheme)
        self.journey.session.data["options"] = opts
        payable = [y["year"] for y in opts.get("years", []) if not y.get("paid")]
        self.choice = ContributionChoice(
            scheme_zh=str(opts.get("scheme_zh", self.item.name_zh)),
            masked_name=identity.masked_name,
            masked_id=str(opts.get("masked_id") or identity.masked_id),
            eligible=bool(opts.get("eligible")) and bool(payable),
            reason_zh=str(opts.get("reason_zh", "")),
            year=payable[0] if payable else None,
            grades=tuple(Grade(str(g["grade_id"]), int(g["amount_fen"]), str(g["label_zh"])) for g in opts.get("grades", [])),
            months_max=max(1, int(opts.get("months_max", 1))),
        )
        if not self.choice.eligible:
            self.charge = Charge(
                title_zh=self.choice.scheme_zh, payee_zh=CONTRIBUTION_PAYEE[0], payee_en=CONTRIBUTION_PAYEE[1],
                payer_masked=self.choice.masked_name, lines=(), amount_fen=0, payable=False,
                settled=bool(opts.get("years")) and all(y.get("paid") for y in opts["years"]),
                reason_zh=self.choice.reason_zh or "暂不能缴费，请到窗口咨询",
                reason_en="This contribution cannot be paid here now; please ask at a service window",
            )
        return self.choice

    def choose(self, grade_id: str, months: int = 1) -> Charge:
        """The resident picked a grade (and, for flexible workers, how many months)."""
        if self.choice is None or not self.choice.eligible:
            raise JourneyError("no payable contribution loaded")
        if self.payment.order is not None:
            raise JourneyError("this session already has a payment order")
        grade = next((g for g in self.choice.grades if g.grade_id == grade_id), None)
        if grade is None:
            raise JourneyError(f"no grade {grade_id!r} on offer")
        months = max(1, min(int(months), self.choice.months_max))
        monthly = self.scheme == "pension_flexible"
        lines = [
            ("缴费人", self.choice.masked_name),
            ("证件号码", self.choice.masked_id),
            ("险种", self.choice.scheme_zh),
            ("缴费年度", f"{self.choice.year}年"),
            ("缴费档次", grade.label_zh),
        ]
        if monthly:
            lines.append(("缴费月数", f"{months}个月"))
        self.journey.session.data["choice"] = {"grade_id": grade.grade_id, "months": months if monthly else 1}
        self.charge = Charge(
            title_zh=self.choice.scheme_zh,
            payee_zh=CONTRIBUTION_PAYEE[0],
            payee_en=CONTRIBUTION_PAYEE[1],
            payer_masked=self.choice.masked_name,
            lines=tuple(lines),
            amount_fen=grade.amount_fen * (months if monthly else 1),
        )
        return self.charge

    def _order_request(self) -> dict:
        session = self.journey.session
        assert session.identity is not None and self.choice is not None
        chosen = session.data["choice"]
        return {
            "purpose": "contribution",
            "id_number": session.identity.id_number,
            "scheme": self.scheme,
            "year": self.choice.year,
            "grade_id": chosen["grade_id"],
            "months": chosen["months"],
        }

    def _journal_who(self) -> tuple[str, str]:
        if self.choice is not None:
            return self.choice.masked_name, self.choice.masked_id
        identity = self.journey.session.identity
        return (identity.masked_name, identity.masked_id) if identity else ("", "")


def _periods_text(bills: list[dict]) -> str:
    periods = sorted(str(b["period"]) for b in bills)
    if not periods:
        return "无待缴账单"
    if len(periods) == 1:
        return periods[0]
    return f"{periods[0]} 至 {periods[-1]}（共{len(periods)}期）"
