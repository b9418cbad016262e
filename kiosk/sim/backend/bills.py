"""Water, electricity and gas accounts of the demo residents, with their monthly bills.

Account numbers (8 to 12 digits) and bills are derived from the resident, so they are the
same on every run. Which bills are paid is the derived state plus what was paid through this
backend (``bill_payments`` in the store).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kiosk.identity import mask_name
from kiosk.sim.backend import records
from kiosk.sim.demo_data import RESIDENTS, DemoResident

UTILITIES = {
    # utility: (name, company, unit, price in fen per unit x 100, digits)
    "water": ("水费", "宁阳县自来水有限公司", "吨", 35_000, 10),
    "electricity": ("电费", "国网宁阳县供电公司", "千瓦时", 5_469, 12),
    "gas": ("燃气费", "宁阳县港华燃气有限公司", "立方米", 29_000, 8),
}


@dataclass(frozen=True)
class Account:
    utility: str
    account_no: str
    resident: DemoResident

    @property
    def address(self) -> str:
        return self.resident.address


def _account_no(r: DemoResident, utility: str, index: int) -> str:
    digits = UTILITIES[utility][4]
    body = records.rng_for(r, f"acct-{utility}").randrange(10 ** (digits - 4))
    # the resident's index keeps numbers unique; the leading digit is never 0
    return f"{1 + index % 9}{index:03d}{body:0{digits - 4}d}"


def build_accounts() -> dict[tuple[str, str], Account]:
    out: dict[tuple[str, str], Account] = {}
    for i, r in enumerate(RESIDENTS, start=1):
        for utility in UTILITIES:
            if utility == "gas" and i % 2 == 0:
                continue  # not every household has piped gas
            acct = Account(utility, _account_no(r, utility, i), r)
            out[(utility, acct.account_no)] = acct
    return out


ACCOUNTS = build_accounts()


def accounts_of(r: DemoResident) -> list[Account]:
    return [a for a in ACCOUNTS.values() if a.resident.key == r.key]


def _periods(today: dt.date, n: int = 3) -> list[str]:
    y, m = today.year, today.month
    out = []
    for _ in range(n):
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
        out.append(f"{y}-{m:02d}")
    return sorted(out)


def bills(acct: Account, today: dt.date, paid_ids: set[str]) -> list[dict]:
    name, _company, unit, price, _digits = UTILITIES[acct.utility]
    rng = records.rng_for(acct.resident, f"bills-{acct.utility}")
    unpaid_from = rng.randint(0, 3)  # bills from this index on were not paid (0..3: all to none)
    out = []
    for i, period in enumerate(_periods(today)):
        usage = {
            "water": rng.randint(3, 15),
            "electricity": rng.randint(80, 400),
            "gas": rng.randint(8, 40),
        }[acct.utility]
        bill_id = f"{acct.utility[0].upper()}{acct.account_no}{period.replace('-', '')}"
        status = "paid" if (i < unpaid_from or bill_id in paid_ids) else "due"
        y, m = int(period[:4]), int(period[5:])
        due = dt.date(y + (m == 12), 1 if m == 12 else m + 1, 25)
        out.append(
            {
                "bill_id": bill_id,
                "period": period,
                "item_zh": name,
                "usage": usage,
                "unit_zh": unit,
                "amount_fen": usage * price // 100,
                "status": status,
                "due_date": due.isoformat(),
            }
        )
    return out


def statement(acct: Account, today: dt.date, paid_ids: set[str]) -> dict:
    items = bills(acct, today, paid_ids)
    return {
        "utility": acct.utility,
        "utility_zh": UTILITIES[acct.utility][0],
        "company_zh": UTILITIES[acct.utility][1],
        "account_no": acct.account_no,
        "holder_masked_name": mask_name(acct.resident.name),
        "address_masked": acct.address[:6] + "****",
        "bills": items,
        "total_due_fen": sum(b["amount_fen"] for b in items if b["status"] == "due"),
    }
