"""The layer in front of the terminal API: what a request must be before any handler sees it.

In order, for every ``/v1/`` request:

1. size: a declared ``Content-Length`` over the route's limit is refused before a byte of the
   body is read; a chunked body is counted as it arrives and refused at the limit (413). The
   HTTP parser frames the body, so a body is never taken for a second request.
2. signature: terminal, timestamp, nonce and HMAC over the exact bytes (401), the nonce kept
   in the database so a replay is refused by every gateway process;
3. idempotency key on writes (400);
4. JSON: an object, at most ``MAX_DEPTH`` deep, integers of at most ``MAX_INT_DIGITS`` digits,
   finite floats, no NaN (400). Each of these once gave "500, retryable" for a request that
   would fail the same way every time.

Every refusal is in the one error shape and not retryable. The answer's ``Date`` header
follows the gateway's clock (which the terminal learns from when its own clock is off).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any

import anyio

from kiosk.backend import signing
from kiosk.gateway.errors import ApiError, bad_request

MAX_BODY_BYTES = 64 * 1024
MAX_DEPTH = 32
MAX_INT_DIGITS = 16  # 2**53 has 16 digits: larger integers are no amount or count we take
MAX_FLOAT_CHARS = 32
IDEMPOTENCY_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-")


@dataclass(frozen=True)
class Op:
    """What the guard knows of one route."""

    signed: bool = True
    keyed: bool = False
    max_body: int = MAX_BODY_BYTES


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError("number too large")
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_FLOAT_CHARS:
        raise ValueError("number too long")
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def depth(value: Any) -> int:
    """How deeply lists and objects nest (iteratively: no recursion limit to hit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, d = stack.pop()
        if isinstance(node, dict):
            deepest = max(deepest, d)
            stack.extend((v, d + 1) for v in node.values())
        elif isinstance(node, list):
            deepest = max(deepest, d)
            stack.extend((v, d + 1) for v in node)
    return deepest


def parse_json(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object, or ``ApiError`` 400 saying what is wrong with it."""
    try:
        doc = json.loads(raw or b"{}", parse_int=_int, parse_float=_float, parse_constant=_constant)
    except RecursionError:
        raise bad_request("too_deep", f"body nested deeper than {MAX_DEPTH}") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise bad_request("malformed_json", "body is not JSON") from None
    except ValueError as e:  # one of the hooks above refused a number or a constant
        raise bad_request("bad_number", f"body: {e}") from None
    if not isinstance(doc, dict):
        raise bad_request("malformed_json", "body must be a JSON object")
    if depth(doc) > MAX_DEPTH:
        raise bad_request("too_deep", f"body nested deeper than {MAX_DEPTH}")
    return doc


async def send_error(send: Callable, err: ApiError, date: str, *, close: bool = False) -> None:
    data = json.dumps(err.body(), ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json; charset=utf-8"),
               (b"content-length", str(len(data)).encode()), (b"date", date.encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": err.status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


class Guard:
    """ASGI middleware: limits, signature, nonce, idempotency key, JSON checks (see above).

    ``ops`` maps (method, path) to its ``Op``; routes not in it (the console, unknown paths)
    pass through with only the size limit. ``secret_for`` and ``remember_nonce`` are the
    store's (blocking: run on a worker thread). ``clock`` is the gateway's time.
    """

    def __init__(self, app: Any, ops: dict[tuple[str, str], Op], secret_for: Callable[[str], bytes | None],
                 remember_nonce: Callable[[str, str, int], bool], clock: Callable[[], float],
                 *, other_max_body: int = MAX_BODY_BYTES) -> None:
        self.app, self.ops = app, ops
        self.secret_for, self.remember_nonce, self.clock = secret_for, remember_nonce, clock
        self.other_max_body = other_max_body

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        date = formatdate(self.clock(), usegmt=True)

        async def dated_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"date"]
                message = {**message, "headers": [*headers, (b"date", date.encode())]}
            await send(message)

        method, path = scope["method"], scope["path"]
        op = self.ops.get((method, path))
        limit = op.max_body if op is not None else self.other_max_body
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await send_error(dated_send, ApiError(413, "request_too_large", "请求过大",
                                                  f"request body over {limit} bytes"), date, close=True)
            return
        try:
            raw = await self._read(receive, limit)
        except ApiError as e:
            await send_error(dated_send, e, date, close=True)
            return
        except _Disconnected:
            return
        if op is not None:
            try:
                terminal = await self._check(scope, headers, method, raw, op)
            except ApiError as e:
                await send_error(dated_send, e, date)
                return
            scope.setdefault("state", {})["terminal"] = terminal
        scope.setdefault("state", {})["raw_body"] = raw
        sent = False

        async def replay() -> dict:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": raw, "more_body": False}
            return await receive()

        await self.app(scope, replay, dated_send)

    @staticmethod
    async def _read(receive: Callable, limit: int) -> bytes:
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            body = message.get("body", b"")
            size += len(body)
            if size > limit:
                raise ApiError(413, "request_too_large", "请求过大", f"request body over {limit} bytes")
            chunks.append(body)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _check(self, scope: dict, headers: dict[bytes, bytes], method: str, raw: bytes, op: Op) -> str:
        terminal = ""
        if op.signed:
            text = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in headers.items()}
            signed = {h: text.get(h.lower(), "") for h in (signing.H_TERMINAL, signing.H_TIMESTAMP,
                                                          signing.H_NONCE, signing.H_SIGNATURE,
                                                          signing.H_IDEMPOTENCY)}
            # the request target exactly as sent (what the terminal signed)
            target = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
            if scope.get("query_string"):
                target += "?" + scope["query_string"].decode("latin-1")
            try:
                terminal = await anyio.to_thread.run_sync(lambda: signing.verify(
                    signed, method, target, raw, self.secret_for, self.remember_nonce, now=self.clock()))
            except signing.SignatureError as e:
                raise ApiError(401, e.code, e.message_zh, f"authentication failed: {e}", False) from None
        if op.keyed:
            key = headers.get(b"idempotency-key", b"").decode("latin-1")
            if not key:
                raise bad_request("idempotency_key_required", "Idempotency-Key header required", "请求缺少幂等键")
            if len(key) > 128 or not set(key) <= IDEMPOTENCY_KEY_CHARS:
                raise bad_request("bad_idempotency_key", "Idempotency-Key: 1-128 of A-Z a-z 0-9 . _ : -",
                                  "幂等键格式错误")
        if method == "POST":
            scope.setdefault("state", {})["json"] = parse_json(raw)
            # the body is a JSON object whatever the client called it: the handler reads it so
            scope["headers"] = [h for h in scope["headers"] if h[0].lower() != b"content-type"] + [
                (b"content-type", b"application/json")]
        return terminal


class _Disconnected(Exception):
    pass
