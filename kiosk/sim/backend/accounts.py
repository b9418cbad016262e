"""Derived records beyond contributions: rights record, medical account, pensions, settlements.

Like ``records``, these are pure functions of the resident and "today", so the answers are
stable and predictable in tests.
"""

from __future__ import annotations

import datetime as dt

from kiosk.identity import mask_id_number, mask_name, mask_number
from kiosk.sim.backend import records
from kiosk.sim.demo_data import DemoResident

HOSPITALS = ("宁阳县第一人民医院", "宁阳县中医院", "泰安市中心医院", "葛石镇卫生院")
BANKS = ("农商银行", "邮储银行", "建设银行")


def _months_between(start: dt.date, end: dt.date) -> list[tuple[int, int]]:
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def rights_record(r: DemoResident, today: dt.date) -> dict:
    """个人权益记录: per scheme, months paid, personal-account total and the last paid period."""
    schemes = []
    for s in records.insurance(r, today)["schemes"]:
        scheme = s["scheme"]
        paid_rows = [
            row
            for y in records.contribution_years(r, today)
            for row in records.contribution_rows(r, y, today)
            if row["scheme"] == scheme and row["status"] == "paid"
        ]
        # only pension schemes and employee medical insurance keep a personal account
        account = (
            sum(row["personal_fen"] for row in paid_rows) if scheme != "medical_resident" else 0
        )
        schemes.append(
            {
                "scheme": scheme,
                "scheme_zh": s["name_zh"],
                "status_zh": s["status_zh"],
                "start": s["start"],
                "months_paid": records.months_paid(r, scheme, today),
                "personal_account_fen": account,
                "last_paid": paid_rows[-1]["period"] if paid_rows else None,
            }
        )
    return {
        "masked_name": mask_name(r.name),
        "masked_id": mask_id_number(r.id_number),
        "as_of": today.isoformat(),
        "schemes": schemes,
    }


def medical_account(r: DemoResident, year: int, today: dt.date) -> dict | None:
    """医保个人账户 for employee medical insurance; None for anybody without one."""
    if r.medical != "employee":
        return None
    rng = records.rng_for(r, f"med{year}")
    balance = 120_000 + rng.randint(0, 400_000)  # carried over from earlier years
    opening = balance
    movements = []
    last_month = 12 if year < today.year else today.month
    for m in range(1, last_month + 1):
        credit = 12_000 + rng.randint(0, 8_000) if not r.retired else 16_000
        balance += credit
        movements.append(
            {
                "date": f"{year}-{m:02d}-05",
                "kind": "credit",
                "amount_fen": credit,
                "description_zh": "个人账户划入",
                "balance_fen": balance,
            }
        )
        if rng.random() < 0.4:
            spend = min(balance, rng.randint(1_500, 30_000))
            balance -= spend
            movements.append(
                {
                    "date": f"{year}-{m:02d}-{10 + rng.randint(0, 18):02d}",
                    "kind": "debit",
                    "amount_fen": spend,
                    "description_zh": f"药店购药（{HOSPITALS[rng.randrange(len(HOSPITALS))][:4]}）",
                    "balance_fen": balance,
                }
            )
    return {
        "masked_id": mask_id_number(r.id_number),
        "year": year,
        "opening_balance_fen": opening,
        "balance_fen": balance,
        "movements": movements,
    }


def monthly_pension_fen(r: DemoResident) -> int:
    rng = records.rng_for(r, "pension")
    if r.pension == "employee":
        return 280_000 + rng.randint(0, 200_000)
    return 16_000 + rng.randint(0, 12_000)  # 城乡居民: basic pension plus the personal account part


def benefits(r: DemoResident, today: dt.date) -> dict:
    """待遇领取: the pension paid to a retiree, the last 12 payments, the qualification check."""
    start_year = records.retirement_year(r)
    if start_year is None:
        return {"masked_id": mask_id_number(r.id_number), "receiving": False, "benefits": []}
    monthly = monthly_pension_fen(r)
    scheme = f"pension_{r.pension}"
    bank = BANKS[records.rng_for(r, "bank").randrange(len(BANKS))]
    account = f"62{records.rng_for(r, 'acct').randrange(10**16):016d}"
    first = max(dt.date(start_year, r.birth_date.month, 1), dt.date(today.year - 1, today.month, 1))
    payments = [
        {
            "period": f"{y}-{m:02d}",
            "amount_fen": monthly,
            "paid_on": f"{y}-{m:02d}-10",
            "bank_zh": bank,
            "masked_account": mask_number(account),
        }
        for y, m in _months_between(first, today)
        if (y, m) < (today.year, today.month) or today.day >= 10
    ]
    certified = dt.date(today.year, 1, 1) + dt.timedelta(
        days=records.rng_for(r, "cert").randint(0, 300)
    )
    return {
        "masked_id": mask_id_number(r.id_number),
        "receiving": True,
        "benefits": [
            {
                "scheme": scheme,
                "scheme_zh": records.SCHEME_NAMES[scheme],
                "kind_zh": "基本养老金",
                "since": f"{start_year}-{r.birth_date.month:02d}",
                "monthly_fen": monthly,
                "payments": payments[-12:],
                # 养老金领取资格认证: once a year; the terminal shows when it is next due
                "qualification_certified_on": certified.isoformat(),
                "qualification_due_by": (certified + dt.timedelta(days=365)).isoformat(),
            }
        ],
    }


def resident_pension(r: DemoResident, today: dt.date) -> dict:
    """城乡居民养老保险缴费及待遇: the yearly contributions, the account and any pension."""
    if r.pension != "resident":
        return {
            "masked_id": mask_id_number(r.id_number),
            "insured": False,
            "contributions": [],
            "personal_account_fen": 0,
            "benefit": None,
        }
    rows = []
    for y in records.contribution_years(r, today):
        for row in records.contribution_rows(r, y, today):
            if row["scheme"] == "pension_resident":
                rows.append(
                    {
                        "year": y,
                        "personal_fen": row["personal_fen"],
                        "subsidy_fen": row["unit_fen"],
                        "status": row["status"],
                    }
                )
    account = sum(x["personal_fen"] + x["subsidy_fen"] for x in rows if x["status"] == "paid")
    benefit = None
    if r.retired:
        benefit = {
            "monthly_fen": monthly_pension_fen(r),
            "since": f"{records.retirement_year(r)}-{r.birth_date.month:02d}",
        }
    return {
        "masked_id": mask_id_number(r.id_number),
        "insured": True,
        "status_zh": records.STATUS_ZH[records.scheme_status(r, "pension_resident")],
        "contributions": rows,
        "personal_account_fen": account,
        "benefit": benefit,
    }


def settlements(r: DemoResident, year: int, today: dt.date) -> list[dict]:
    """统筹费用结算 (hospital stays settled by the pooled fund) in a year."""
    if r.medical is None or year > today.year:
        return []
    rng = records.rng_for(r, f"settle{year}")
    out = []
    for i in range(rng.randint(0, 3)):
        total = rng.randint(80_000, 1_500_000)
        fund = total * (70 if r.medical == "employee" else 55) // 100
        month = 1 + rng.randrange(today.month if year == today.year else 12)
        out.append(
            {
                "settlement_no": f"JS{year}{month:02d}{r.seq:03d}{i}",
                "hospital": HOSPITALS[rng.randrange(len(HOSPITALS))],
                "date": f"{year}-{month:02d}-{1 + rng.randrange(28):02d}",
                "total_fen": total,
                "fund_fen": fund,
                "personal_fen": total - fund,
            }
        )
    return sorted(out, key=lambda x: x["date"])
