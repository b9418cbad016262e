"""办件进度查询: where each application stands, by ID card or by the 受理回执's QR code.

受理 -> 审核 -> (补正, with what to hand in again and why) -> 办结 -> 已寄出 (with the tracking
number) or 待领取. Identified by card, the resident sees every application of theirs; where a code
scanner is fitted, the QR code on a 受理回执 opens that one application without a card (the
journey starts the flow with the scanned code, see ``Journey.on_device_event``). Applications
this terminal still holds for the platform (the network was down when they were submitted) are
listed too, as waiting to be sent. Nothing personal is shown beyond masked values.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from kiosk.errors import KioskError
from kiosk.services.journey import Outcome

if TYPE_CHECKING:
    from kiosk.services.catalogue import ServiceItem
    from kiosk.services.journey import Journey

log = logging.getLogger(__name__)

_CODE = re.compile(r"^[A-Za-z0-9]{8,32}$")
STATUS_EN = {"accepted": "Accepted", "review": "Under review", "correction": "Correction needed",
             "done": "Decided", "posted": "Posted", "ready": "Ready to collect", "queued": "Waiting to be sent"}


class BadCodeError(KioskError):
    message_zh = "这不是受理回执上的二维码，请扫描回执上的二维码或放置身份证"
    message_en = "That is not the QR code of an acceptance receipt; scan the receipt's code or place your ID card"


def code_from_scan(text: str) -> str:
    """The progress code in what a scanner read: the receipt's URL (``...?code=X``) or the code."""
    text = text.strip()
    if text.startswith(("http://", "https://")):
        text = (parse_qs(urlsplit(text).query).get("code") or [""])[0]
    if not _CODE.fullmatch(text):
        raise BadCodeError("scanned text is not a progress code")
    return text


@dataclass(frozen=True)
class Step:
    name_zh: str
    at: str
    note_zh: str


@dataclass(frozen=True)
class Case:
    """One application as the progress screen shows it."""

    number: str  # 办件编号, or the terminal's 流水号 while it waits to be sent
    item_id: str
    item_name: str
    status: str
    status_zh: str
    promised_by: str
    steps: tuple[Step, ...]
    corrections: tuple[str, ...]
    tracking_no: str
    delivery_zh: str

    @property
    def status_en(self) -> str:
        return STATUS_EN.get(self.status, self.status)


def _case(p: dict[str, Any]) -> Case:
    return Case(p["application_no"], p["item_id"], p["item_name"], p["status"], p["status_zh"], p["promised_by"],
                tuple(Step(s["name_zh"], s["at"][:16].replace("T", " "), s.get("note_zh", "")) for s in p["steps"]),
                tuple(p.get("corrections", [])), p.get("tracking_no") or "", p.get("delivery_zh", ""))


class ProgressFlow:
    def __init__(self, item: ServiceItem, journey: Journey) -> None:
        self.item = item
        self.journey = journey
        self.cases: tuple[Case, ...] = ()

    @property
    def reference(self) -> str:
        return self.journey.session.matter_no

    @property
    def by_code(self) -> bool:
        return "scanned_code" in self.journey.session.data

    # blocking: run on a worker thread
    def load(self) -> tuple[Case, ...]:
        ports, session = self.journey.ports, self.journey.session
        if self.by_code:
            code = code_from_scan(session.data["scanned_code"])
            self.cases = (_case(ports.backend.application_progress_by_code(code)),)
            return self.cases
        assert session.identity is not None
        found = [_case(p) for p in ports.backend.application_progress(session.identity.id_number)["applications"]]
        self.cases = (*self._waiting(), *found)
        return self.cases

    def _waiting(self) -> list[Case]:
        """This terminal's applications of the resident not yet with the platform."""
        store, who = self.journey.ports.applications, self.journey.session.identity
        if store is None or who is None:
            return []
        try:
            rows = store.outbox.query(
                "SELECT key, item_id, item_name FROM applications WHERE status = 'queued' "
                "AND masked_id = ? AND masked_name = ? ORDER BY created_at DESC", (who.masked_id, who.masked_name))
        except KioskError as e:
            log.warning("progress: waiting applications not read: %s", e)
            return []
        return [Case(key, item_id, name, "queued", "待提交", "", (Step("已在本终端提交，等待网络恢复后送达", "", ""),), (), "", "")
                for key, item_id, name in rows]

    def outcome(self) -> Outcome:
        if not self.cases:
            return Outcome(ok=True, title_zh="未查询到办件", title_en="No applications found",
                           message_zh="未查询到您的办件。刚在窗口提交的申请可能稍后才能查到。",
                           message_en="No applications were found. One just handed in at a window may show up later.",
                           reference=self.reference)
        zh = "；".join(f"{c.item_name}：{c.status_zh}" for c in self.cases[:3])
        en = "; ".join(f"{c.number}: {c.status_en}" for c in self.cases[:3])
        return Outcome(ok=True, title_zh="办件进度查询完成", title_en="Progress shown",
                       message_zh=zh, message_en=en, reference=self.reference)

    def failed_outcome(self, error: KioskError) -> Outcome:
        return Outcome.failed(error, self.reference, then=("请稍后再试，或拨打12345咨询。", "Try again later, or call 12345."))
