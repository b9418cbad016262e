"""Builders for what the terminal queues in the outbox, checked against the contract at once.

A payload that breaks the contract would only be refused by the backend later, as a failed
row nobody sees at the time; building it here raises ``ValueError`` in the journey instead.
A rating is built by the journey (``kiosk.services.rating.rating_payload``), where its
evaluator is reduced to a keyed hash and a masked name (国办发〔2019〕51号).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ValidationError

from kiosk.backend import models as m
from kiosk.validation import fields


def now_iso() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _checked(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    try:
        return model.model_validate(data).model_dump(mode="json")
    except ValidationError as e:
        raise ValueError(f"{model.__name__}: invalid {fields(e)}") from None


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
    paper_near_end: bool = False,
    outbox_oldest_s: int | None = None,
    last_error: str = "",
    at: str | None = None,
) -> dict[str, Any]:
    """``devices``: device name -> DeviceStatus value; ``paper``: PaperStatus value;
    ``last_error``: already scrubbed of personal data."""
    return _checked(
        m.HeartbeatIn,
        {
            "software_version": software_version,
            "devices": devices,
            "paper": paper,
            "paper_near_end": paper_near_end,
            "outbox_depth": outbox_depth,
            "outbox_oldest_s": outbox_oldest_s,
            "in_service": in_service,
            "last_error": last_error,
            "at": at or now_iso(),
        },
    )


def application_queued(
    *,
    application_key: str,
    item_id: str,
    item_name: str,
    masked_name: str,
    masked_id: str,
    blobs: list[dict[str, Any]],
    form: dict[str, Any],
    queued_at: str | None = None,
) -> dict[str, Any]:
    """The outbox row of an application: the manifest of its sealed files, masked names only."""
    return _checked(
        m.ApplicationQueued,
        {
            "application_key": application_key,
            "item_id": item_id,
            "item_name": item_name,
            "masked_name": masked_name,
            "masked_id": masked_id,
            "blobs": blobs,
            "form": form,
            "queued_at": queued_at or now_iso(),
        },
    )


def application(data: dict[str, Any]) -> dict[str, Any]:
    """An application's body as the backend takes it (``models.ApplicationIn``), checked now so a
    form the contract refuses never reaches the outbox. ``upload_id`` is added by the sender."""
    _checked(m.ApplicationIn, {**data, "upload_id": "UP-CHECK"})
    return data
