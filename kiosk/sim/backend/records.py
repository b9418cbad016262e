"""Social-insurance records of the demo residents, derived deterministically from who they are.

Nothing here is stored: the same resident and the same "today" always give the same records,
so tests can predict them and the emulated cards and the backend always agree. The resident's
notes in ``kiosk.sim.demo_data`` stay true: 陈明 has no insurance, 周芳 only resident medical
insurance, the retirees receive pensions, the flexible-employment residents pay as such.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random

from kiosk.identity import mask_id_number, mask_name
from kiosk.sim.demo_data import DemoResident

SCHEME_NAMES = {
    "pension_employee": "企业职工基本养老保险",
    "pension_resident": "城乡居民基本养老保险",
    "pension_flexible": "灵活就业人员基本养老保险",
    "medical_employee": "职工基本医疗保险",
    "medical_resident": "城乡居民基本医疗保险",
}
#: schemes paid once a year; the others are monthly
ANNUAL = {"pension_resident", "medical_resident"}
STATUS_ZH = {"active": "参保缴费", "receiving": "待遇享受", "suspended": "暂停缴费"}
EMPLOYERS = (
    "宁阳县鲁泰纺织有限公司",
    "宁阳县华丰建材有限公司",
    "宁阳县人民医院",
    "泰安市岱岳区粮食储备库",
)
#: 城乡居民养老保险 contribution grades on offer (yuan a year), as in Shandong's 2024 table
RESIDENT_PENSION_GRADES = (300, 500, 800, 1000, 1500, 2000, 3000, 4000, 5000)
RESIDENT_MEDICAL_YUAN = 400  # personal share a year
FLEXIBLE_BASE_YUAN = (4154, 4500, 5000, 6000)


def rng_for(r: DemoResident, salt: str = "") -> random.Random:
    digest = hashlib.sha256(f"{r.key}|{salt}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _schemes(r: DemoResident) -> list[str]:
    out = []
    if r.pension:
        out.append(f"pension_{r.pension}")
    if r.medical:
        out.append(f"medical_{r.medical}")
    return out


def retirement_year(r: DemoResident) -> int | None:
    """The year pension payments started, for residents who receive one."""
    if not r.retired:
        return None
    age = 60 if (r.sex == "1" or r.pension == "resident") else 55
    return r.birth_date.year + age


def start_year(r: DemoResident, scheme: str) -> int:
    rng = rng_for(r, scheme)
    adult = r.birth_date.year + (18 if scheme.endswith("resident") else 22)
    if scheme == "pension_resident":
        floor = 2010  # the resident pension scheme reached every county by 2012
    elif scheme == "medical_resident":
        floor = 2016  # the two resident medical schemes were merged in 2016
    else:
        floor = 1996
    return max(adult, floor) + rng.randint(0, 3)


def start_month(r: DemoResident, scheme: str) -> str:
    """YYYY-MM the scheme started; annual schemes start in January."""
    month = 1 if scheme in ANNUAL else 1 + rng_for(r, scheme + "m").randrange(12)
    return f"{start_year(r, scheme)}-{month:02d}"


def scheme_status(r: DemoResident, scheme: str) -> str:
    if r.retired and scheme.startswith("pension"):
        return "receiving"
    return "active"


def insurance(r: DemoResident, today: dt.date) -> dict:
    schemes = []
    for s in _schemes(r):
        status = scheme_status(r, s)
        unit = None
        if s.endswith("employee"):
            unit = (
                "离退休人员"
                if r.retired
                else EMPLOYERS[rng_for(r, "unit").randrange(len(EMPLOYERS))]
            )
        schemes.append(
            {
                "scheme": s,
                "name_zh": SCHEME_NAMES[s],
                "status": status,
                "status_zh": STATUS_ZH[status],
                "unit": unit,
                "start": start_month(r, s),
            }
        )
    return {
        "masked_name": mask_name(r.name),
        "masked_id": mask_id_number(r.id_number),
        "insured": bool(schemes),
        "schemes": schemes,
    }


def scheme_years(r: DemoResident, scheme: str, today: dt.date) -> range:
    end = today.year
    ret = retirement_year(r)
    if ret is not None and scheme.startswith("pension"):
        end = min(end, ret - 1)  # no contributions once the pension is paid
    return range(start_year(r, scheme), end + 1)


def contribution_years(r: DemoResident, today: dt.date) -> list[int]:
    years: set[int] = set()
    for s in _schemes(r):
        years.update(scheme_years(r, s, today))
    return sorted(years)


def _row(period: str, scheme: str, base: int, personal: int, unit: int, status: str) -> dict:
    return {
        "period": period,
        "scheme": scheme,
        "scheme_zh": SCHEME_NAMES[scheme],
        "base_fen": base,
        "personal_fen": personal,
        "unit_fen": unit,
        "status": status,
    }


def resident_pension_grade(r: DemoResident, year: int) -> int:
    """Yuan a year; residents tend to move up the grades over time."""
    rng = rng_for(r, f"grade{year}")
    idx = min(len(RESIDENT_PENSION_GRADES) - 1, max(0, (year - 2010) // 4 + rng.randint(-1, 1)))
    return RESIDENT_PENSION_GRADES[idx]


def annual_due(r: DemoResident, scheme: str, year: int, today: dt.date) -> bool:
    """Whether this year's annual contribution is still unpaid (so the kiosk can take it)."""
    return year == today.year and rng_for(r, f"due{scheme}{year}").random() < 0.5


def contribution_rows(r: DemoResident, year: int, today: dt.date) -> list[dict]:
    rows: list[dict] = []
    ret = retirement_year(r)
    for s in _schemes(r):
        if year < start_year(r, s) or year > today.year:
            continue
        if ret is not None and s.startswith("pension") and year >= ret:
            continue
        if s in ANNUAL:
            if s == "pension_resident":
                personal = resident_pension_grade(r, year) * 100
                subsidy = (30 + 10 * (personal // 100_000)) * 100  # 政府补贴 grows with the grade
            else:
                personal, subsidy = RESIDENT_MEDICAL_YUAN * 100, 0
            status = "due" if annual_due(r, s, year, today) else "paid"
            rows.append(_row(f"{year}", s, personal, personal, subsidy, status))
            continue
        last_month = 12 if year < today.year else today.month
        first_month = int(start_month(r, s)[5:]) if year == start_year(r, s) else 1
        base_rng = rng_for(r, f"base{year}")
        if s == "pension_flexible":
            base = FLEXIBLE_BASE_YUAN[base_rng.randrange(len(FLEXIBLE_BASE_YUAN))] * 100
        else:
            base = (3000 + 100 * base_rng.randint(0, 50) + 150 * max(0, year - 2000)) * 100
        for m in range(first_month, last_month + 1):
            if s == "pension_employee":
                personal, unit = base * 8 // 100, base * 16 // 100
            elif s == "pension_flexible":
                personal, unit = base * 20 // 100, 0
            else:  # medical_employee
                personal, unit = base * 2 // 100, base * 6 // 100
            status = "due" if (year == today.year and m == today.month) else "paid"
            rows.append(_row(f"{year}-{m:02d}", s, base, personal, unit, status))
    return rows


def contributions(r: DemoResident, year: int | None, today: dt.date) -> dict:
    years = contribution_years(r, today)
    chosen = year if year is not None else (years[-1] if years else None)
    rows = contribution_rows(r, chosen, today) if chosen is not None else []
    paid = [x for x in rows if x["status"] == "paid"]
    return {
        "masked_id": mask_id_number(r.id_number),
        "years": years,
        "year": chosen,
        "rows": rows,
        "total_personal_fen": sum(x["personal_fen"] for x in paid),
        "total_unit_fen": sum(x["unit_fen"] for x in paid),
    }


def in_range(period: str, start: str, end: str) -> bool:
    """Whether a row's period (YYYY-MM, or YYYY for a yearly contribution) lies in start..end."""
    if len(period) == 4:
        return start[:4] <= period <= end[:4]
    return start <= period <= end


def scheme_rows(r: DemoResident, scheme: str, start: str, end: str, today: dt.date) -> list[dict]:
    """One scheme's contribution rows from ``start`` to ``end`` (YYYY-MM), oldest first."""
    return [
        row
        for y in range(int(start[:4]), int(end[:4]) + 1)
        for row in contribution_rows(r, y, today)
        if row["scheme"] == scheme and in_range(row["period"], start, end)
    ]


def default_range(r: DemoResident, scheme: str, today: dt.date) -> tuple[str, str]:
    """The months of the scheme's latest year with contributions (what a certificate covers
    when the terminal names no range)."""
    years = scheme_years(r, scheme, today)
    last = years[-1] if years else today.year
    rows = [x for x in contribution_rows(r, last, today) if x["scheme"] == scheme]
    if not rows or len(rows[0]["period"]) == 4:
        end = f"{last}-12" if last < today.year else f"{today:%Y-%m}"
        return f"{last}-01", end
    return rows[0]["period"], rows[-1]["period"]


def months_paid(r: DemoResident, scheme: str, today: dt.date) -> int:
    """累计缴费月数 for a scheme (annual schemes count 12 a paid year)."""
    total = 0
    for y in contribution_years(r, today):
        for row in contribution_rows(r, y, today):
            if row["scheme"] == scheme and row["status"] == "paid":
                total += 12 if scheme in ANNUAL else 1
    return total
