"""电子社保卡 / 电子身份证 codes: the simulated platform issues and resolves identity tokens.

A resident's phone shows a QR code that is a token, not their data: it lives ``TOKEN_TTL_S``
(60 s, then the app shows a fresh one) and is good for one resolve. The token carries a tag
(an HMAC with the platform's secret), so a code the platform never issued is told apart from
one that is merely unknown. ``POST /v1/identity/resolve`` turns a token into the resident;
expired, used, forged and unknown codes are refused with a code the terminal turns into "refresh
the code in the app".

    ESSC1.<16 hex: token id>.<16 hex: tag>     电子社保卡
    CTID1.<16 hex: token id>.<16 hex: tag>     电子身份证 (网证)

``issue`` is the phone side (the simulator panel, the tours through ``POST /sim/tokens``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import TYPE_CHECKING, Any

from kiosk.backend import models as m
from kiosk.identity import mask_id_number, mask_name
from kiosk.sim.backend.api import ApiError, Call, idempotent, parse
from kiosk.sim.demo_data import BY_KEY

if TYPE_CHECKING:
    import sqlite3

    from kiosk.sim.backend.server import ReferenceBackend

TOKEN_TTL_S = 60.0
PREFIXES = {"e_sscard": "ESSC1", "e_id": "CTID1"}
KINDS = {prefix: kind for kind, prefix in PREFIXES.items()}

SCHEMA = """
CREATE TABLE IF NOT EXISTS identity_tokens (
    token_id TEXT PRIMARY KEY, kind TEXT NOT NULL, resident TEXT NOT NULL,
    issued_at REAL NOT NULL, expires_at REAL NOT NULL, used_at REAL
);
"""


def _schema(backend: ReferenceBackend) -> None:
    with backend.store.lock:
        backend.store.conn.executescript(SCHEMA)


def _tag(backend: ReferenceBackend, prefix: str, token_id: str) -> str:
    mac = hmac.new(backend.signing_secret, f"{prefix}.{token_id}".encode(), hashlib.sha256)
    return mac.hexdigest()[:16]


def issue(backend: ReferenceBackend, resident: str, kind: str = "e_sscard", *, age_s: float = 0.0,
          used: bool = False) -> str:
    """A fresh code for ``resident`` (a demo key), as their app would show it. ``age_s`` makes
    one issued that long ago (an expired code when over ``TOKEN_TTL_S``), ``used`` one already
    resolved once."""
    if resident not in BY_KEY:
        raise ApiError(404, "resident_not_found", "无此演示居民", f"no demo resident {resident!r}")
    if kind not in PREFIXES:
        raise ApiError(400, "bad_kind", "类型错误", f"kind is one of {', '.join(PREFIXES)}")
    _schema(backend)
    token_id = secrets.token_hex(8)
    issued = time.time() - age_s
    with backend.store.lock:
        backend.store.conn.execute(
            "INSERT INTO identity_tokens VALUES (?, ?, ?, ?, ?, ?)",
            (token_id, kind, resident, issued, issued + TOKEN_TTL_S, issued if used else None),
        )
    prefix = PREFIXES[kind]
    return f"{prefix}.{token_id}.{_tag(backend, prefix, token_id)}"


def _refuse(status: int, code: str, zh: str, en: str) -> ApiError:
    return ApiError(status, code, zh, en, False)


def _token(backend: ReferenceBackend, conn: sqlite3.Connection, code: str) -> tuple[str, Any]:
    parts = code.strip().split(".")
    if len(parts) != 3 or parts[0] not in KINDS or len(parts[1]) != 16 or len(parts[2]) != 16:
        raise _refuse(404, "token_unknown", "无法识别此二维码，请出示电子社保卡或电子身份证二维码",
                      "This is not an electronic social security card or ID code")
    prefix, token_id, tag = parts
    if not hmac.compare_digest(tag, _tag(backend, prefix, token_id)):
        raise _refuse(403, "token_forged", "二维码无效，请在App中刷新后重新出示",
                      "This code is not valid; refresh it in the app")
    row = conn.execute(
        "SELECT kind, resident, expires_at, used_at FROM identity_tokens WHERE token_id=?", (token_id,)
    ).fetchone()
    if row is None:
        raise _refuse(404, "token_unknown", "二维码无效，请在App中刷新后重新出示",
                      "This code is not valid; refresh it in the app")
    return token_id, row


def resolve(call: Call) -> tuple[int, dict]:
    q = parse(m.IdentityCodeIn, call.body)
    backend = call.backend
    _schema(backend)

    def effect(conn: sqlite3.Connection) -> tuple[int, dict]:
        token_id, (kind, key, expires_at, used_at) = _token(backend, conn, q.code)
        now = time.time()
        if used_at is not None:
            raise _refuse(409, "token_used", "此二维码已使用过，请在App中刷新后重新出示",
                          "This code has been used; refresh it in the app")
        if now > expires_at:
            raise _refuse(409, "token_expired", "二维码已过期，请在App中刷新后重新出示",
                          "This code has expired; refresh it in the app")
        conn.execute("UPDATE identity_tokens SET used_at=? WHERE token_id=?", (now, token_id))
        r = BY_KEY[key]
        return 200, {
            "source": kind,
            "id_number": r.id_number,
            "name": r.name,
            "sex": r.sex,
            "birth_date": r.birth_date.isoformat(),
            "masked_name": mask_name(r.name),
            "masked_id": mask_id_number(r.id_number),
        }

    return idempotent(call, "identity_resolve", effect)


def sim_issue(backend: ReferenceBackend, raw: bytes) -> tuple[int, dict]:
    """``POST /sim/tokens {"resident": KEY, "kind": "e_sscard", "age_s": 0, "used": false}``."""
    try:
        spec = json.loads(raw or b"{}")
        code = issue(backend, str(spec["resident"]), str(spec.get("kind", "e_sscard")),
                     age_s=float(spec.get("age_s", 0)), used=bool(spec.get("used", False)))
    except (ValueError, KeyError, TypeError) as e:
        raise ApiError(400, "bad_token_request", "参数错误", f"bad token request: {e}") from None
    return 200, {"code": code, "ttl_s": TOKEN_TTL_S}
