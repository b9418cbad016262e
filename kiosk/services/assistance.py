"""帮办代办 and 政务服务地图: getting a resident to a person or a place that can help.

帮办代办: the resident keys a mobile number and picks the item they need help with; the
callback request goes into the outbox (kind ``help_request``), so it reaches the backend even
when the network is down right now. The number is personal: it travels only in the outbox
payload and is shown masked.

政务服务地图: the service points from the terminal's config (address, hours, phone, what they
handle, whether a terminal stands there), filtered by category from a pick-list.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kiosk.errors import JourneyError, KioskError
from kiosk.identity import mask_phone
from kiosk.services.catalogue import Category
from kiosk.services.journey import Outcome

if TYPE_CHECKING:
    from kiosk.config import ServicePoint
    from kiosk.services.catalogue import ServiceItem
    from kiosk.services.journey import Journey

log = logging.getLogger(__name__)

#: mainland mobile numbers: 11 digits, 1 then 3-9 (numbering plan of the MIIT)
_MOBILE = re.compile(r"1[3-9]\d{9}")

#: the items that are about getting help, not matters a resident needs help with
_NOT_A_MATTER = ("help_request", "service_map")


def is_mobile_number(phone: str) -> bool:
    """An 11-digit mainland mobile number (``13800138000``)."""
    return bool(_MOBILE.fullmatch(phone or ""))


class InvalidPhoneError(JourneyError):
    """What was keyed is not a mainland mobile number."""

    message_zh = "请输入11位手机号码（以1开头）"
    message_en = "Please key in an 11-digit mobile number starting with 1"


@dataclass(frozen=True)
class CategoryChoice:
    """One entry of a category pick-list; ``key`` '' means every category."""

    key: str
    zh: str
    en: str


ALL = CategoryChoice("", "全部", "All")


class HelpRequestFlow:
    """帮办代办: pick the item, key the phone number, queue the callback request."""

    def __init__(self, item: ServiceItem, journey: Journey) -> None:
        self.item = item
        self.journey = journey
        self.outcome: Outcome | None = None

    @property
    def reference(self) -> str:
        return self.journey.session.matter_no

    def categories(self) -> list[CategoryChoice]:
        grouped = self.journey.ports.catalogue.by_category()
        return [CategoryChoice(c.value, c.label_zh, c.label_en) for c, items in grouped.items()
                if any(i.id not in _NOT_A_MATTER and i.flow not in _NOT_A_MATTER for i in items)]

    def matters(self, category: str = "") -> list[ServiceItem]:
        """Catalogue items a resident may need help with, guides included, in file order."""
        return [
            i for i in self.journey.ports.catalogue.items
            if i.flow not in _NOT_A_MATTER and (not category or i.category.value == category)
        ]

    def submit(self, phone: str, item_id: str) -> Outcome:
        """Queue the callback request (durable on return). Submitting again adds nothing."""
        if not is_mobile_number(phone):
            raise InvalidPhoneError(f"keyed phone has {len(phone or '')} digits or a bad prefix")
        if self.outcome is not None:
            return self.outcome
        ports = self.journey.ports
        matter = ports.catalogue.by_id(item_id)
        payload = {
            "phone": phone,
            "item_id": matter.id,
            "item_name": matter.name_zh,
            "requested_at": ports.now().astimezone().isoformat(timespec="seconds"),
        }
        # durable before we say so: the outbox row survives a crash or a network outage
        ports.outbox.put("help_request", payload, idempotency_key=f"help-{self.reference}")
        ports.journal.record(
            transaction_no=self.reference, item_id=self.item.id, item_name=self.item.name_zh, status="completed"
        )
        log.info("help request %s queued for item %s", self.reference, matter.id)
        self.outcome = Outcome(
            ok=True,
            title_zh="已为您预约帮办代办",
            title_en="Staff will call you back",
            message_zh=f"事项：{matter.name_zh}。工作人员将致电 {mask_phone(phone)} 与您联系；"
            "工作时间内尽快回电，非工作时间于下一个工作日联系您。急事可到本中心咨询帮办区，或拨打12345。",
            message_en=f"Item: {matter.name_en}. Staff will call {mask_phone(phone)}: soon during office hours, "
            "otherwise on the next working day. For urgent help go to the help desk or call 12345.",
            reference=self.reference,
        )
        return self.outcome

    def failed_outcome(self, error: KioskError) -> Outcome:
        """The request could not be saved: why, and where to get help instead."""
        return Outcome.failed(
            error, self.reference, title=("未能提交帮办请求", "The request could not be saved"),
            then=("请到本中心咨询帮办区找工作人员，或拨打12345。", "Please go to the help desk, or call 12345."),
        )


@dataclass(frozen=True)
class PointView:
    """A service point as the map screen shows it (config data: nothing personal)."""

    name: str
    address: str
    hours: str
    phone: str
    categories: tuple[str, ...]  # Chinese labels, as in the config
    has_terminal: bool

    @property
    def terminal_zh(self) -> str:
        return "有24小时自助终端" if self.has_terminal else "无自助终端"

    @property
    def terminal_en(self) -> str:
        return "24-hour self-service terminal" if self.has_terminal else "No self-service terminal"

    @property
    def qr_text(self) -> str:
        """What the point's QR code carries: plain text a phone shows as it is."""
        return f"{self.name}\n地址：{self.address}\n办公时间：{self.hours}\n电话：{self.phone}"


def _category_key(label: str) -> str:
    try:
        return Category.from_label(label).value
    except ValueError:
        return ""  # a county's own label: shown on the point, not offered as a filter


class ServiceMapFlow:
    """政务服务地图: the configured service points, filtered by category."""

    def __init__(self, item: ServiceItem, journey: Journey) -> None:
        self.item = item
        self.journey = journey

    def _points(self) -> list[ServicePoint]:
        return list(self.journey.ports.config.service_points)

    def categories(self) -> list[CategoryChoice]:
        """全部, then every catalogue category at least one point handles, in display order."""
        keys = {_category_key(label) for p in self._points() for label in p.items} - {""}
        return [ALL] + [CategoryChoice(c.value, c.label_zh, c.label_en) for c in Category if c.value in keys]

    def points(self, category: str = "") -> list[PointView]:
        out = []
        for p in self._points():
            if category and category not in {_category_key(label) for label in p.items}:
                continue
            out.append(PointView(p.name, p.address, p.hours, p.phone, tuple(p.items), p.has_terminal))
        return out

    def done_outcome(self) -> Outcome:
        return Outcome(
            ok=True,
            title_zh="查询完成",
            title_en="Done",
            message_zh="政务服务便民热线 12345。",
            message_en="Government service hotline 12345.",
            reference=self.journey.session.matter_no,
        )
