"""What a bill or a contribution period is in, said the same way on every screen and paper.

The backend sends a status code (``due``, ``paid`` ...); the payment screen, the query tables
and the 个人权益记录单 all show it through this one table. The English stands beside the
Chinese so the catalogue extraction picks it up as the translation.
"""

from __future__ import annotations

BILL_STATUS: dict[str, tuple[str, str]] = {
    "paid": ("已缴", "Paid"),
    "due": ("待缴", "Due"),
    "arrears": ("欠缴", "In arrears"),
    "owed": ("欠缴", "In arrears"),
    "refunded": ("已退", "Refunded"),
}


def bill_status_zh(code: object) -> str:
    """The Chinese word for a status code; an unknown code is shown as it came."""
    return BILL_STATUS.get(str(code), (str(code), str(code)))[0]

#: statuses that are owed and not paid: counted apart, never in what was paid
UNPAID = frozenset({"due", "arrears", "owed"})
