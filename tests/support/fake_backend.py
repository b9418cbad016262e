"""A fake government platform in memory: the demo residents, their bills, orders, certificates.

``FakeBackend`` fits ``kiosk.services.ports.Backend``. It answers from ``kiosk.sim.demo_data``
(a few canned records per resident, not the reference backend's full history), keeps what the
terminal did (orders with their states, certificates issued, loss reports) and records every
call in ``calls`` and in the shared ``log``. Each answer is checked against the contract's
models, as the real client checks the real backend's.

Switches, for the failures the services' rules are about:

* ``down = True``: every call fails before the backend does anything;
* ``lose_answers(method, times)``: the call is applied, then its answer is lost;
* ``refuse(method, code)``: the backend says no (not retryable) and does nothing.

The resident's own side is explicit too: ``pay(order_no)`` (scanned and paid on the phone),
``expire(order_no)``.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from kiosk.backend import models as m
from kiosk.errors import BackendError, BackendUnavailableError
from kiosk.identity import mask_id_number, mask_name, mask_number, mask_phone
from kiosk.sim.demo_data import BY_KEY, DemoResident, by_id_number

SCHEME_NAMES = {
    "pension_employee": "企业职工基本养老保险",
    "pension_resident": "城乡居民基本养老保险",
    "pension_flexible": "灵活就业人员基本养老保险",
    "medical_employee": "职工基本医疗保险",
    "medical_resident": "城乡居民基本医疗保险",
}
PAY_URL = "https://pay.example.cn/q/"
GRADES: tuple[dict[str, Any], ...] = ({"grade_id": "G200", "amount_fen": 20_000, "label_zh": "200元档"},
          {"grade_id": "G500", "amount_fen": 50_000, "label_zh": "500元档"})


@dataclass
class FakeAccount:
    """A utility account and its bills (``status`` due or paid)."""

    utility: str
    account_no: str
    holder: DemoResident
    bills: list[dict[str, Any]]


def _bill(utility: str, account_no: str, period: str, amount_fen: int, status: str = "due") -> dict[str, Any]:
    return {"bill_id": f"{utility[0].upper()}-{account_no}-{period}", "period": period, "item_zh": utility,
            "usage": 12, "unit_zh": "吨", "amount_fen": amount_fen, "status": status, "due_date": f"{period}-25"}


def canned_accounts() -> dict[tuple[str, str], FakeAccount]:
    """Water owed by 张秀英 (two months), electricity by 刘䶮, gas of 王建国 all paid."""
    accounts = [
        FakeAccount("water", "3709210001", BY_KEY["zhang_xiuying"],
                    [_bill("water", "3709210001", "2026-09", 4_200), _bill("water", "3709210001", "2026-10", 3_850)]),
        FakeAccount("electricity", "370921000203", BY_KEY["liu_yan"],
                    [_bill("electricity", "370921000203", "2026-10", 12_640)]),
        FakeAccount("gas", "37092103", BY_KEY["wang_jianguo"],
                    [_bill("gas", "37092103", "2026-10", 8_700, status="paid")]),
    ]
    return {(a.utility, a.account_no): a for a in accounts}


def _refusal(code: str, zh: str, en: str = "") -> BackendError:
    return BackendError(f"refused: {code}", code=code, message_zh=zh, message_en=en or code, retryable=False)


class FakeBackend:
    def __init__(self, log: list[str] | None = None, today: dt.date = dt.date(2026, 11, 20)) -> None:
        self.log = log if log is not None else []
        self.today = today
        #: every call, in order: (method, its arguments)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.down = False
        self._lost: dict[str, int | None] = {}  # method -> answers still to lose (None: all)
        self._refused: dict[str, BackendError] = {}
        self.accounts = canned_accounts()
        self.orders: dict[str, dict[str, Any]] = {}  # order_no -> the order, as the backend holds it
        self._order_keys: dict[str, str] = {}
        self._order_bills: dict[str, list[str]] = {}
        self.certificates: dict[str, dict[str, Any]] = {}  # idempotency key -> the certificate issued
        self.loss_reports: dict[str, dict[str, Any]] = {}  # idempotency key -> the answer
        self.lost_cards = {r.id_number: r.card_lost_at or "" for r in BY_KEY.values() if r.card_status == "lost"}
        self.resolved: dict[str, dict[str, Any]] = {}  # idempotency key -> the person a code stood for
        self.used_codes: set[str] = set()
        self.code_payments: dict[str, dict[str, Any]] = {}  # order_no -> the last code attempt
        self.failing_codes: dict[str, str] = {}  # payment code -> why it fails (insufficient_funds, ...)
        self._code_keys: set[str] = set()
        #: 办件进度 the platform answers: id_number -> applications, newest first
        self.applications: dict[str, list[dict[str, Any]]] = {}

    # --- switches ----------------------------------------------------------------------------

    def lose_answers(self, method: str, times: int | None = 1) -> None:
        """The next ``times`` calls of ``method`` (every one with None) are applied, and their
        answers never reach the terminal."""
        self._lost[method] = times

    def refuse(self, method: str, code: str, zh: str = "暂不能办理") -> None:
        self._refused[method] = _refusal(code, zh)

    def heal(self) -> None:
        """Up again, answering everything."""
        self.down = False
        self._lost.clear()
        self._refused.clear()

    def called(self, method: str) -> list[dict[str, Any]]:
        return [args for name, args in self.calls if name == method]

    # --- the resident's side of a payment ------------------------------------------------------

    def pay(self, order_no: str) -> None:
        """The resident scanned the code and paid: only an unpaid order can be."""
        order = self.orders[order_no]
        if order["status"] != "unpaid":
            raise AssertionError(f"order {order_no} is {order['status']}: nobody can pay it")
        order["status"], order["paid_at"] = "paid", f"{self.today}T10:01:00+08:00"
        self.log.append(f"resident.pay {order_no}")

    def expire(self, order_no: str) -> None:
        if self.orders[order_no]["status"] == "unpaid":
            self.orders[order_no]["status"] = "expired"

    def paid_orders(self) -> list[str]:
        return [no for no, o in self.orders.items() if o["status"] == "paid"]

    # --- plumbing ----------------------------------------------------------------------------

    def _answer(self, method: str, model: type[BaseModel], effect: Callable[[], dict[str, Any]],
                **args: Any) -> dict:
        self.calls.append((method, args))
        self.log.append(f"backend.{method}")
        if self.down:
            raise BackendUnavailableError(f"{method}: the backend cannot be reached")
        if method in self._refused:
            raise self._refused[method]
        answer = effect()
        model.model_validate(answer)  # the contract's shape, as the client checks it
        if method in self._lost:
            left = self._lost[method]
            if left is not None:
                if left <= 1:
                    del self._lost[method]
                else:
                    self._lost[method] = left - 1
            raise BackendUnavailableError(f"{method}: applied, the answer was lost")
        return copy.deepcopy(answer)

    @staticmethod
    def _resident(id_number: str) -> DemoResident:
        r = by_id_number(id_number)
        if r is None:
            raise _refusal("resident_not_found", "未查询到您的参保信息")
        return r

    @staticmethod
    def _schemes(r: DemoResident) -> list[str]:
        return [s for s in (f"pension_{r.pension}" if r.pension else "",
                            f"medical_{r.medical}" if r.medical else "") if s]

    # --- records -----------------------------------------------------------------------------

    def insurance_info(self, id_number: str) -> dict:
        def effect() -> dict[str, Any]:
            r = self._resident(id_number)
            schemes = [{"scheme": s, "name_zh": SCHEME_NAMES[s], "status": "active", "status_zh": "参保缴费",
                        "start": "2015-01"} for s in self._schemes(r)]
            return {"masked_name": mask_name(r.name), "masked_id": mask_id_number(r.id_number),
                    "insured": bool(schemes), "schemes": schemes}
        return self._answer("insurance_info", m.InsuranceInfo, effect, id_number=id_number)

    def contributions(self, id_number: str, year: int | None = None) -> dict:
        def effect() -> dict[str, Any]:
            r = self._resident(id_number)
            shown = year or self.today.year
            rows = [{"period": f"{shown}-{month:02d}", "scheme": s, "scheme_zh": SCHEME_NAMES[s], "base_fen": 400_000,
                     "personal_fen": 32_000, "unit_fen": 64_000, "status": "paid"}
                    for s in self._schemes(r) for month in (1, 2, 3)]
            return {"masked_id": mask_id_number(r.id_number), "years": [shown] if rows else [],
                    "year": shown if rows else None, "rows": rows,
                    "total_personal_fen": sum(x["personal_fen"] for x in rows),
                    "total_unit_fen": sum(x["unit_fen"] for x in rows)}
        return self._answer("contributions", m.Contributions, effect, id_number=id_number, year=year)

    def rights_record(self, id_number: str) -> dict:
        def effect() -> dict[str, Any]:
            r = self._resident(id_number)
            schemes = [{"scheme": s, "scheme_zh": SCHEME_NAMES[s], "status_zh": "参保缴费", "start": "2015-01",
                        "months_paid": 130, "personal_account_fen": 4_210_000, "last_paid": "2026-10"}
                       for s in self._schemes(r)]
            return {"masked_name": mask_name(r.name), "masked_id": mask_id_number(r.id_number),
                    "as_of": str(self.today), "schemes": schemes}
        return self._answer("rights_record", m.RightsRecord, effect, id_number=id_number)

    def medical_account(self, id_number: str, year: int | None = None) -> dict:
        def effect() -> dict[str, Any]:
            r = self._resident(id_number)
            return {"masked_id": mask_id_number(r.id_number), "year": year or self.today.year,
                    "opening_balance_fen": 120_000, "balance_fen": 120_000, "movements": []}
        return self._answer("medical_account", m.MedicalAccount, effect, id_number=id_number, year=year)

    def benefits(self, id_number: str) -> dict:
        def effect() -> dict[str, Any]:
            r = self._resident(id_number)
            paid = [{"scheme": f"pension_{r.pension}", "scheme_zh": SCHEME_NAMES[f"pension_{r.pension}"],
                     "kind_zh": "基本养老金", "since": "2016-04", "monthly_fen": 186_000, "payments": [],
                     "qualification_certified_on": "2026-03-02", "qualification_due_by": "2027-03-01"}]
            return {"masked_id": mask_id_number(r.id_number), "receiving": r.retired,
                    "benefits": paid if r.retired and r.pension else []}
        return self._answer("benefits", m.Benefits, effect, id_number=id_number)

    def resident_pension(self, id_number: str) -> dict:
        def effect() -> dict[str, Any]:
            r = self._resident(id_number)
            return {"masked_id": mask_id_number(r.id_number), "insured": r.pension == "resident",
                    "contributions": [], "personal_account_fen": 0, "benefit": None}
        return self._answer("resident_pension", m.ResidentPension, effect, id_number=id_number)

    # --- certificates ------------------------------------------------------------------------

    def certificate(self, id_number: str, kind: str, idempotency_key: str, *, year: int | None = None,
                    scheme: str | None = None, period_from: str | None = None,
                    period_to: str | None = None) -> dict:
        def effect() -> dict[str, Any]:
            if idempotency_key in self.certificates:
                return self.certificates[idempotency_key]  # the same key: the same certificate
            r = self._resident(id_number)
            if not self._schemes(r):
                raise _refusal("not_insured", "未查询到您的参保记录，无法出具证明")
            n = len(self.certificates) + 1
            issued = {
                "certificate_no": f"ZM-FAKE-{n:04d}", "kind": kind, "verification_code": f"VC{n:08d}",
                "verify_url": f"https://verify.example.cn/c/ZM-FAKE-{n:04d}",
                "document": {"title": m.CERTIFICATE_KINDS[kind], "holder_masked_name": mask_name(r.name),
                             "holder_masked_id": mask_id_number(r.id_number), "issued_at": f"{self.today}T10:00:00+08:00",
                             "lines": [["参保状态", "参保缴费"]], "specimen": True},
            }
            self.certificates[idempotency_key] = issued
            return issued
        return self._answer("certificate", m.Certificate, effect, id_number=id_number, kind=kind,
                            idempotency_key=idempotency_key, year=year, scheme=scheme)

    # --- bills and payments ------------------------------------------------------------------

    def _account(self, utility: str, account_no: str) -> FakeAccount:
        account = self.accounts.get((utility, account_no))
        if account is None:
            raise _refusal("account_not_found", "未查询到该户号，请核对后重新输入")
        return account

    def bill(self, utility: str, account_no: str) -> dict:
        def effect() -> dict[str, Any]:
            a = self._account(utility, account_no)
            return {"utility": utility, "utility_zh": {"water": "水费", "electricity": "电费", "gas": "燃气费"}[utility],
                    "company_zh": "宁阳县公用事业公司", "account_no": account_no,
                    "holder_masked_name": mask_name(a.holder.name), "address_masked": "宁阳县****",
                    "bills": a.bills, "total_due_fen": sum(b["amount_fen"] for b in a.bills if b["status"] == "due")}
        return self._answer("bill", m.BillStatement, effect, utility=utility, account_no=account_no)

    def contribution_options(self, id_number: str, scheme: str) -> dict:
        def effect() -> dict[str, Any]:
            r = self._resident(id_number)
            eligible = scheme in self._schemes(r)
            return {"scheme": scheme, "scheme_zh": SCHEME_NAMES[scheme], "masked_id": mask_id_number(r.id_number),
                    "eligible": eligible, "reason_zh": "" if eligible else "您未参加该险种",
                    "years": [{"year": self.today.year + 1, "paid": False}], "grades": list(GRADES),
                    "months_max": 12 if scheme == "pension_flexible" else 1}
        return self._answer("contribution_options", m.ContributionOptions, effect, id_number=id_number, scheme=scheme)

    def create_order(self, order: dict, idempotency_key: str) -> dict:
        def effect() -> dict[str, Any]:
            if idempotency_key in self._order_keys:  # a retry: the order this key made
                return self.orders[self._order_keys[idempotency_key]]
            if order["purpose"] == "bill":
                account = self._account(order["utility"], order["account_no"])
                bills = [b for b in account.bills if b["bill_id"] in order["bill_ids"] and b["status"] == "due"]
                if not bills:
                    raise _refusal("nothing_due", "该户号没有待缴账单")
                amount, what = sum(b["amount_fen"] for b in bills), [b["bill_id"] for b in bills]
            else:
                grade = next(g for g in GRADES if g["grade_id"] == order["grade_id"])
                amount, what = int(grade["amount_fen"]) * int(order.get("months", 1)), []
            no = f"PO-FAKE-{len(self.orders) + 1:04d}"
            self.orders[no] = {"order_no": no, "purpose": order["purpose"], "description_zh": "缴费",
                               "amount_fen": amount, "status": "unpaid", "qr_payload": PAY_URL + no,
                               "created_at": f"{self.today}T10:00:00+08:00",
                               "expires_at": f"{self.today}T10:15:00+08:00", "paid_at": None}
            self._order_keys[idempotency_key] = no
            self._order_bills[no] = what
            return self.orders[no]
        return self._answer("create_order", m.Order, effect, order=order, idempotency_key=idempotency_key)

    def reconcile_order(self, order_no: str, *, close_unpaid: bool = False) -> dict:
        def effect() -> dict[str, Any]:
            order = self.orders.get(order_no)
            if order is None:
                raise _refusal("order_not_found", "订单不存在")
            if order["status"] == "unpaid" and close_unpaid:
                order["status"] = "closed"
                self.log.append(f"backend closed {order_no}")
            return order
        return self._answer("reconcile_order", m.Order, effect, order_no=order_no, close_unpaid=close_unpaid)

    # --- social-security cards ---------------------------------------------------------------

    def _card(self, r: DemoResident) -> dict[str, Any]:
        lost = r.id_number in self.lost_cards
        return {"masked_card_number": mask_number(r.sscard_number), "status": "lost" if lost else "normal",
                "status_zh": "临时挂失" if lost else "正常", "changed_at": self.lost_cards.get(r.id_number) or None,
                "masked_phone": mask_phone(r.phone)}

    def card_status(self, id_number: str) -> dict:
        return self._answer("card_status", m.CardStatus, lambda: self._card(self._resident(id_number)),
                            id_number=id_number)

    def report_card_loss(self, id_number: str, phone: str, idempotency_key: str) -> dict:
        def effect() -> dict[str, Any]:
            if idempotency_key in self.loss_reports:
                return self.loss_reports[idempotency_key]
            r = self._resident(id_number)
            if phone != r.phone:
                raise _refusal("phone_mismatch", "手机号码与登记信息不一致")
            if r.id_number in self.lost_cards:
                raise _refusal("already_lost", "该卡已处于临时挂失状态")
            self.lost_cards[r.id_number] = f"{self.today}T10:00:00"
            self.loss_reports[idempotency_key] = self._card(r)
            return self.loss_reports[idempotency_key]
        return self._answer("report_card_loss", m.CardStatus, effect, id_number=id_number,
                            idempotency_key=idempotency_key)

    # --- codes shown on the resident's phone ----------------------------------------------------

    def resolve_identity_code(self, code: str, idempotency_key: str) -> dict:
        """``FAKE-<resident key>`` codes stand for a demo resident, once; anything else is unknown."""
        def effect() -> dict[str, Any]:
            if idempotency_key in self.resolved:
                return self.resolved[idempotency_key]
            r = BY_KEY.get(code.removeprefix("FAKE-")) if code.startswith("FAKE-") else None
            if r is None:
                raise _refusal("token_unknown", "无法识别该二维码，请在手机上刷新后重新出示")
            if code in self.used_codes:
                raise _refusal("token_used", "该二维码已使用，请在手机上刷新后重新出示")
            self.used_codes.add(code)
            self.resolved[idempotency_key] = {
                "source": "e_sscard", "id_number": r.id_number, "name": r.name, "sex": "0",
                "masked_name": mask_name(r.name), "masked_id": mask_id_number(r.id_number)}
            return self.resolved[idempotency_key]
        return self._answer("resolve_identity_code", m.ResolvedIdentity, effect, code=code,
                            idempotency_key=idempotency_key)

    def _code_answer(self, order_no: str) -> dict[str, Any]:
        order = self.orders.get(order_no)
        if order is None:
            raise _refusal("order_not_found", "订单不存在")
        attempt = self.code_payments.get(order_no, {"status": "none", "reason": "", "refunded": False})
        return {"order_no": order_no, **attempt, "order": order}

    def pay_with_code(self, order_no: str, auth_code: str, idempotency_key: str, *, deadline_s: float) -> dict:
        """Every code pays at once, except ``self.failing_codes`` (code -> reason)."""
        def effect() -> dict[str, Any]:
            if idempotency_key in self._code_keys:
                return self._code_answer(order_no)
            self._code_keys.add(idempotency_key)
            order = self.orders[order_no]
            reason = self.failing_codes.get(auth_code, "")
            if reason:
                self.code_payments[order_no] = {"status": "failed", "reason": reason, "refunded": False}
            else:
                self.pay(order_no)
                self.code_payments[order_no] = {"status": "paid", "reason": "", "refunded": False}
            return {"order_no": order_no, **self.code_payments[order_no], "order": order}
        return self._answer("pay_with_code", m.CodePayment, effect, order_no=order_no,
                            idempotency_key=idempotency_key, deadline_s=deadline_s)

    def code_payment_status(self, order_no: str) -> dict:
        return self._answer("code_payment_status", m.CodePayment, lambda: self._code_answer(order_no),
                            order_no=order_no)

    def reverse_code_payment(self, order_no: str, idempotency_key: str) -> dict:
        def effect() -> dict[str, Any]:
            order = self.orders[order_no]
            refunded = order["status"] == "paid"
            order["status"] = "closed"
            self.code_payments[order_no] = {"status": "reversed", "reason": "", "refunded": refunded}
            self.log.append(f"backend reversed {order_no}")
            return self._code_answer(order_no)
        return self._answer("reverse_code_payment", m.CodePayment, effect, order_no=order_no,
                            idempotency_key=idempotency_key)

    # --- applications (申办) ---------------------------------------------------------------------

    def licences(self, id_number: str) -> dict:
        from kiosk.sim.backend.applications import licences_of

        def effect() -> dict[str, Any]:
            return {"masked_id": mask_id_number(id_number), "licences": licences_of(id_number)}
        return self._answer("licences", m.Licences, effect, id_number=id_number)

    def application_progress(self, id_number: str) -> dict:
        def effect() -> dict[str, Any]:
            return {"masked_id": mask_id_number(id_number), "applications": self.applications.get(id_number, [])}
        return self._answer("application_progress", m.ProgressList, effect, id_number=id_number)

    def application_progress_by_code(self, code: str) -> dict:
        def effect() -> dict[str, Any]:
            for applications in self.applications.values():
                for a in applications:
                    if a.get("progress_code") == code or a["application_no"] == code:
                        return {k: v for k, v in a.items() if k != "progress_code"}
            raise _refusal("application_not_found", "未查询到该办件，请核对回执或凭身份证查询")
        return self._answer("application_progress_by_code", m.ApplicationProgress, effect, code=code)
