"""Builders for what the terminal queues in the outbox, checked against the contract at once.

A payload that breaks the contract would only be refused by the backend later, as a failed
row nobody sees at the time; building it here raises ``ValueError`` in the journey instead.
The evaluator of a rating is confidential (国办发〔2019〕51号): only a keyed hash and a masked
ID number leave the terminal.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any

from pydantic import BaseModel, ValidationError

from kiosk.backend import models as m
from kiosk.identity import mask_id_number


def now_iso() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _checked(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    try:
        return model.model_validate(data).model_dump(mode="json")
    except ValidationError as e:
        fields = ", ".join(".".join(str(p) for p in err["loc"]) for err in e.errors())
        raise ValueError(f"{model.__name__}: invalid {fields}") from None


def evaluator_hash(id_number: str, secret: bytes) -> str:
    """Stable per resident and terminal secret, so repeat ratings can be linked, but not
    reversible by trying every ID number without the secret."""
    return hmac.new(
        secret, b"evaluator|" + id_number.strip().upper().encode(), hashlib.sha256
    ).hexdigest()


def rating(
    *,
    transaction_no: str,
    area_code: str,
    item_id: str,
    item_name: str,
    id_number: str,
    secret: bytes,
    satisfaction: int | None,
    indicators: list[str] | tuple[str, ...] = (),
    reason: str = "",
    rated_at: str | None = None,
) -> dict[str, Any]:
    """A 好差评 record; ``satisfaction`` 1-5, or None when the resident did not rate in time."""
    if satisfaction is not None and satisfaction <= 2 and not (reason or indicators):
        raise ValueError("a 不满意/非常不满意 rating needs a reason or an indicator")
    return _checked(
        m.RatingIn,
        {
            "transaction_no": transaction_no,
            "area_code": area_code,
            "item_id": item_id,
            "item_name": item_name,
            "evaluator_hash": evaluator_hash(id_number, secret),
            "evaluator_masked": mask_id_number(id_number),
            "channel": "terminal",
            "satisfaction": "not_rated" if satisfaction is None else satisfaction,
            "indicators": list(indicators),
            "reason": reason,
            "rated_at": rated_at or now_iso(),
        },
    )


def device_event(device: str, kind: str, detail: str = "", at: str | None = None) -> dict[str, Any]:
    """``detail`` is technician text and must not hold personal data."""
    return _checked(
        m.DeviceEventIn, {"device": device, "kind": kind, "detail": detail, "at": at or now_iso()}
    )


def help_request(
    phone: str, item_id: str, item_name: str, requested_at: str | None = None
) -> dict[str, Any]:
    """帮办代办 callback: the phone is needed to call back, so it travels in the (signed) body."""
    return _checked(
        m.HelpRequestIn,
        {
            "phone": phone,
            "item_id": item_id,
            "item_name": item_name,
            "requested_at": requested_at or now_iso(),
        },
    )


def audit(actor: str, action: str, detail: str = "", at: str | None = None) -> dict[str, Any]:
    return _checked(
        m.AuditIn, {"actor": actor, "action": action, "detail": detail, "at": at or now_iso()}
    )


def heartbeat(
    *,
    software_version: str,
    devices: dict[str, str],
    paper: str,
    outbox_depth: int,
    in_service: bool = True,
    at: str | None = None,
) -> dict[str, Any]:
    """``devices``: device name -> DeviceStatus value; ``paper``: PaperStatus value."""
    return _checked(
        m.HeartbeatIn,
        {
            "software_version": software_version,
            "devices": devices,
            "paper": paper,
            "outbox_depth": outbox_depth,
            "in_service": in_service,
            "at": at or now_iso(),
        },
    )
