"""好差评: five equal levels, indicators, reasons, and the record sent to the backend.

国办发〔2019〕51号 and GB/T 39734/39735: every channel is rated, a terminal once per visit,
nothing may hint at a level, and 不满意 / 非常不满意 require a reason. The screen and the
evaluation pad may both answer; ``RatingArbiter`` lets exactly one answer count.

The pad has five keys and nothing else, so a 不满意 pressed there cannot come with a reason
from the pick-list. It is recorded anyway, marked as given on the pad without a reason: a bad
rating is what the follow-up (回访) exists for, and dropping it would hide exactly those.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import threading
from dataclasses import dataclass
from enum import IntEnum
from urllib.parse import urlencode


class Level(IntEnum):
    VERY_SATISFIED = 5
    SATISFIED = 4
    BASICALLY_SATISFIED = 3
    DISSATISFIED = 2
    VERY_DISSATISFIED = 1

    @property
    def label_zh(self) -> str:
        return {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}[self.value]

    @property
    def label_en(self) -> str:
        return {
            5: "Very satisfied",
            4: "Satisfied",
            3: "Basically satisfied",
            2: "Dissatisfied",
            1: "Very dissatisfied",
        }[self.value]

    @property
    def needs_reason(self) -> bool:
        return self.value <= 2


#: on-site indicators (整体满意度, 服务效率, 服务水平, 服务态度), offered after a level
INDICATORS: dict[str, tuple[str, str]] = {
    "overall": ("整体满意度", "Overall"),
    "efficiency": ("服务效率", "Efficiency"),
    "quality": ("服务水平", "Service quality"),
    "attitude": ("服务态度", "Attitude"),
}

#: pick-list of reasons for 不满意 / 非常不满意 (no free text on a kiosk)
REASONS: dict[str, tuple[str, str]] = {
    "slow": ("办理时间太长", "It took too long"),
    "complex": ("操作太复杂", "Too hard to use"),
    "device": ("设备出现故障", "A device failed"),
    "wrong_info": ("信息不准确", "The information was wrong"),
    "unclear_guide": ("指引不清楚", "The instructions were unclear"),
    "not_available": ("想办的事项办不了", "What I needed was not available"),
}

#: what the record says when a bad rating came from the pad, which has no reason keys
PAD_NO_REASON = "评价器评价，未选择原因"

SOURCES = ("screen", "pad", "timeout")

CHANNEL_TERMINAL = "terminal"  # 渠道: hall self-service terminal (code 5 "other hall terminal")
CHANNEL_CODE = "5"


class RatingError(ValueError):
    """A rating that breaks the rules (unknown level, missing reason, unknown code)."""


@dataclass(frozen=True)
class Rating:
    level: Level | None  # None = not rated (timeout)
    indicators: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    source: str = "screen"  # screen | pad | timeout

    def validate(self) -> None:
        if self.source not in SOURCES:
            raise RatingError(f"unknown rating source {self.source!r}")
        if self.level is None:
            if self.indicators or self.reasons:
                raise RatingError("a 'not rated' record carries no indicators or reasons")
            return
        unknown = [c for c in self.indicators if c not in INDICATORS] + [
            c for c in self.reasons if c not in REASONS
        ]
        if unknown:
            raise RatingError(f"unknown indicator or reason code(s): {unknown}")
        if self.level.needs_reason and not self.reasons and self.source != "pad":
            raise RatingError(f"{self.level.label_zh} needs a reason")


def evaluator_token(id_number: str, secret: bytes) -> str:
    """The evaluator is confidential: the backend gets a keyed hash, never the ID number.

    Stable per resident and terminal secret (a card read and the same number keyed in, x or X,
    give one token, so repeat ratings can be linked), and not reversible by trying every ID
    number without the secret."""
    return hmac.new(secret, b"evaluator|" + id_number.strip().upper().encode(), hashlib.sha256).hexdigest()


def rating_payload(
    rating: Rating,
    *,
    transaction_no: str,
    area_code: str,
    item_id: str,
    item_name: str,
    evaluator_hash: str,
    evaluator_masked: str,
    at: dt.datetime,
) -> dict:
    """The record docs/rules.md lists for each rating, in the contract's shape (kiosk/backend/openapi.yaml)."""
    rating.validate()
    return {
        "transaction_no": transaction_no,
        "area_code": area_code,
        "item_id": item_id,
        "item_name": item_name,
        "evaluator_hash": evaluator_hash,
        "evaluator_masked": evaluator_masked,
        "channel": CHANNEL_TERMINAL,
        "channel_code": CHANNEL_CODE,
        "satisfaction": int(rating.level) if rating.level is not None else "not_rated",
        "indicators": list(rating.indicators),
        # the pick-list reasons, as the words the resident chose, and their codes
        "reason": "；".join(REASONS[c][0] for c in rating.reasons) or _pad_note(rating),
        "reason_codes": list(rating.reasons),
        "source": rating.source,
        "rated_at": at.astimezone().isoformat(timespec="seconds"),
    }


def _pad_note(rating: Rating) -> str:
    return PAD_NO_REASON if rating.source == "pad" and rating.level is not None and rating.level.needs_reason else ""


def online_rating_url(base_url: str, *, transaction_no: str, area_code: str, item_id: str) -> str:
    """The QR code's target for rating online later: the matter, never the person.

    It names the transaction (办件编号), the area and the item, which is what the online
    rating of one matter (一事一评) needs to find it; no name, ID or phone goes in.
    """
    query = urlencode({"txn": transaction_no, "area": area_code, "item": item_id})
    return f"{base_url.rstrip('/')}/rate?{query}"


class RatingArbiter:
    """First answer wins, once: the screen, the pad and the timeout race for one slot."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._winner: Rating | None = None

    def offer(self, rating: Rating) -> bool:
        """True if this answer is the one that counts; later answers get False."""
        with self._lock:
            if self._winner is not None:
                return False
            self._winner = rating
            return True

    @property
    def winner(self) -> Rating | None:
        return self._winner
