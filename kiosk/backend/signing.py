"""HMAC-SHA256 request signing, shared by the terminal's client and the reference backend.

A terminal proves who it is with a per-terminal secret. The signature covers everything an
attacker on the path could change to make a request mean something else: the method, the path
(with its query), the terminal id, the time, a one-off nonce, the idempotency key and a hash of
the body. The server refuses a signature older or newer than ``MAX_SKEW_S`` and a nonce it has
seen before, so a captured request cannot be replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets as _secrets
import time
from collections.abc import Callable, Mapping

from kiosk.errors import BackendError

H_TERMINAL = "X-Kiosk-Terminal"
H_TIMESTAMP = "X-Kiosk-Timestamp"
H_NONCE = "X-Kiosk-Nonce"
H_SIGNATURE = "X-Kiosk-Signature"
H_IDEMPOTENCY = "Idempotency-Key"

#: a request signed further than this from the server's clock is refused
MAX_SKEW_S = 300
SCHEME = "HMAC-SHA256"


class SignatureError(BackendError):
    """A request's signature is missing, wrong, stale or replayed (server side)."""

    message_zh = "终端认证失败，请联系工作人员"
    message_en = "The terminal could not be authenticated, please ask staff for help"
    retryable = False


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def canonical(
    method: str,
    path: str,
    terminal_id: str,
    timestamp: str,
    nonce: str,
    idempotency_key: str,
    body: bytes,
) -> bytes:
    """The exact bytes that are signed: one field a line, the body only as its hash."""
    return "\n".join(
        [
            SCHEME,
            method.upper(),
            path,
            terminal_id,
            timestamp,
            nonce,
            idempotency_key,
            body_hash(body),
        ]
    ).encode()


def signature(secret: bytes, message: bytes) -> str:
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def sign_headers(
    terminal_id: str,
    secret: bytes,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    idempotency_key: str = "",
    now: float | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The headers that make a request acceptable to the backend."""
    ts = str(int(now if now is not None else time.time()))
    nonce = nonce or _secrets.token_hex(16)
    msg = canonical(method, path, terminal_id, ts, nonce, idempotency_key, body)
    headers = {
        H_TERMINAL: terminal_id,
        H_TIMESTAMP: ts,
        H_NONCE: nonce,
        H_SIGNATURE: signature(secret, msg),
    }
    if idempotency_key:
        headers[H_IDEMPOTENCY] = idempotency_key
    return headers


def verify(
    headers: Mapping[str, str],
    method: str,
    path: str,
    body: bytes,
    secret_for: Callable[[str], bytes | None],
    remember_nonce: Callable[[str, str, int], bool],
    *,
    now: float | None = None,
) -> str:
    """Check a request's signature; return the terminal id or raise ``SignatureError``.

    ``secret_for(terminal_id)`` gives the terminal's secret (None: unknown terminal).
    ``remember_nonce(terminal_id, nonce, timestamp)`` stores the nonce and returns False if it
    was already there. It is called only once the signature is good, so a forger cannot fill
    the nonce store.
    """
    terminal_id = headers.get(H_TERMINAL, "")
    ts = headers.get(H_TIMESTAMP, "")
    nonce = headers.get(H_NONCE, "")
    sig = headers.get(H_SIGNATURE, "")
    key = headers.get(H_IDEMPOTENCY, "")
    if not (terminal_id and ts and nonce and sig):
        raise SignatureError("unsigned request", code="unsigned")
    if not ts.isdigit() or not (8 <= len(nonce) <= 64):
        raise SignatureError("malformed signature headers", code="bad_signature")
    secret = secret_for(terminal_id)
    if secret is None:
        raise SignatureError(f"unknown terminal {terminal_id!r}", code="unknown_terminal")
    expected = signature(secret, canonical(method, path, terminal_id, ts, nonce, key, body))
    if not hmac.compare_digest(expected, sig):
        raise SignatureError("signature does not match", code="bad_signature")
    current = now if now is not None else time.time()
    if abs(current - int(ts)) > MAX_SKEW_S:
        raise SignatureError(
            f"timestamp {int(current - int(ts))} s away from the server clock",
            code="stale_timestamp",
        )
    if not remember_nonce(terminal_id, nonce, int(ts)):
        raise SignatureError("nonce already used", code="replayed_nonce")
    return terminal_id
