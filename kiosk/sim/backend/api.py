"""What every simulated-platform operation shares: the call, the error, parsing, idempotency.

The gateway does the HTTP, signing and its own idempotency; the adapter (``adapter.py``) hands
each operation (see ``routes.py``) a ``Call`` (the platform, terminal id, body, idempotency
key) and gets (status, answer) back or an ``ApiError``. Writes run inside ``idempotent`` so
each key has one effect on the platform too.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from kiosk.gateway.errors import ApiError
from kiosk.sim.demo_data import DemoResident, by_id_number
from kiosk.validation import fields

if TYPE_CHECKING:
    from kiosk.sim.backend.adapter import SimulatedPlatform


IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9._:-]{1,128}")


@dataclass
class Call:
    backend: SimulatedPlatform
    terminal: str
    body: dict[str, Any]
    key: str
    query: dict[str, str]
    path_args: tuple[str, ...] = ()


def parse(model: type[BaseModel], body: dict[str, Any]) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError as e:
        raise ApiError(
            422, "invalid_request", "请求内容有误", f"invalid fields: {fields(e, top='body')}", False
        ) from None


def resident(id_number: str) -> DemoResident:
    r = by_id_number(id_number)
    if r is None:
        raise ApiError(
            404, "resident_not_found", "未查询到您的参保信息", "No records found for this person"
        )
    return r


def need_key(call: Call) -> str:
    if not call.key:
        raise ApiError(
            400, "idempotency_key_required", "请求缺少幂等键", "Idempotency-Key header required"
        )
    if not IDEMPOTENCY_KEY.fullmatch(call.key):
        raise ApiError(
            400,
            "bad_idempotency_key",
            "幂等键格式错误",
            "Idempotency-Key: 1-128 of A-Z a-z 0-9 . _ : -",
        )
    return call.key


def body_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def idempotent(
    call: Call, route: str, effect: Callable[[Any], tuple[int, dict]]
) -> tuple[int, dict]:
    """Run a write's effect once per idempotency key (see ``ReferenceStore.idempotent``)."""
    from kiosk.sim.backend.store import IdempotencyConflict

    try:
        status, answer, _replayed = call.backend.store.idempotent(
            call.terminal, need_key(call), route, body_hash(call.body), effect
        )
    except IdempotencyConflict:
        raise ApiError(
            409,
            "idempotency_conflict",
            "重复请求内容不一致",
            "Idempotency key reused for a different request",
        ) from None
    return status, answer


__all__ = ["ApiError", "Call", "idempotent", "need_key", "parse", "resident"]
