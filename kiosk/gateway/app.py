"""The gateway application: the store, the platform adapter and the FastAPI app around them.

``Gateway(store, platform)`` is one gateway process's state; ``gateway.asgi`` is what uvicorn
serves (the guard in front of FastAPI). ``openapi()`` is the contract document, built from the
routes and models without a database (``kiosk.backend.contract`` writes it to openapi.yaml).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from kiosk import __version__
from kiosk.backend.signing import H_NONCE, H_SIGNATURE, H_TERMINAL, H_TIMESTAMP, MAX_SKEW_S
from kiosk.gateway import api, fleet
from kiosk.gateway.adapter import Platform
from kiosk.gateway.errors import ApiError
from kiosk.gateway.guard import Guard
from kiosk.gateway.store import Store
from kiosk.validation import location

log = logging.getLogger(__name__)

DESCRIPTION = f"""\
What a 政务服务自助终端 asks of the terminal gateway (前置服务), and what it sends.

* **Signed requests.** Every operation except the two public GETs carries
  `{H_TERMINAL}`, `{H_TIMESTAMP}` (unix seconds), `{H_NONCE}` (8-64 characters, never reused)
  and `{H_SIGNATURE}`: hex HMAC-SHA256 with the terminal's secret over the lines
  `HMAC-SHA256`, method, path with query, terminal id, timestamp, nonce, idempotency key (or
  empty) and the hex SHA-256 of the body, joined by newlines. Timestamps more than
  {MAX_SKEW_S} s from the server clock and replayed nonces are refused (401).
* **No personal data in URLs.** ID numbers, names and phone numbers travel only in signed POST
  bodies, because URLs end up in logs. Answers carry masked names and ID numbers.
* **Idempotent writes.** Every write carries an `Idempotency-Key`; the same key always gets the
  same answer and has one effect. The same key with a different body is refused (409).
* **Limits.** Bodies up to 64 KiB (a diagnostics bundle 2 MiB), JSON nested at most 32 deep,
  integers of at most 16 digits, no NaN or Infinity: anything else is refused (400, 413).
* **One error shape**, for every error: `{{"error": {{"code", "message_zh", "message_en",
  "retryable"}}}}`. `retryable` is true only when the same request may succeed later.
* **Remote commands** travel in the heartbeat's answer; the terminal acknowledges them in a
  later heartbeat. A terminal never opens a port.
* Amounts are integers in fen (分). Times are ISO 8601 with offset.
"""


def _error(err: ApiError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(err.body(), err.status, headers=headers)


def build_fastapi(gateway: Gateway | None = None) -> FastAPI:
    app = FastAPI(
        title="政务服务自助终端 terminal gateway API", version=__version__, description=DESCRIPTION,
        servers=[{"url": "http://127.0.0.1:8765", "description": "a gateway (kiosk gateway serve)"}],
        docs_url=None, redoc_url=None, openapi_url=None,
    )
    app.state.gateway = gateway
    app.include_router(api.router)
    if gateway is not None and gateway.console:
        from kiosk.gateway.console.routes import install

        install(app)

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        places = sorted({location(tuple(e.get("loc", ())), skip=("bill", "contribution")) for e in exc.errors()})
        return _error(ApiError(422, "invalid_request", "请求内容有误", f"invalid fields: {', '.join(places[:8])}"))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return _error(ApiError(404, "not_found", "请求的服务不存在", f"no such endpoint {request.url.path}"))
        if exc.status_code == 405:
            return _error(ApiError(405, "method_not_allowed", "请求方式错误",
                                   f"{request.method} not allowed on {request.url.path}"), dict(exc.headers or {}))
        return _error(ApiError(exc.status_code, "bad_request", "请求格式错误", str(exc.detail)))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.error("gateway: %s %s failed", request.method, request.url.path, exc_info=exc)
        return _error(ApiError(500, "internal", "系统内部错误", f"internal error: {type(exc).__name__}", True))

    return app


def openapi() -> dict[str, Any]:
    """The contract document (OpenAPI 3.1) from the routes and models."""
    app = build_fastapi(None)
    doc = app.openapi()
    doc["components"]["securitySchemes"] = {
        name: {"type": "apiKey", "in": "header", "name": header}
        for name, header in (("terminal", H_TERMINAL), ("timestamp", H_TIMESTAMP), ("nonce", H_NONCE),
                             ("signature", H_SIGNATURE))
    }
    return doc


class Gateway:
    """One gateway process: its database, the platform behind it, the app uvicorn serves."""

    def __init__(self, store: Store, platform: Platform, *, offline_after_s: float = fleet.OFFLINE_AFTER_S,
                 console: bool = True, public_url: str = "", secure_cookies: bool = False) -> None:
        self.store = store
        self.platform = platform
        self.offline_after_s = offline_after_s
        self.console = console
        self.public_url = public_url
        self.secure_cookies = secure_cookies
        #: added to the clock when checking signatures and in the Date header: a test sets it
        #: to play a platform whose clock differs from the terminal's
        self.clock_offset_s = 0.0
        self.fastapi = build_fastapi(self)
        self.asgi = Guard(self.fastapi, api.OPS, store.secret_for, store.remember_nonce, self.clock)

    def clock(self) -> float:
        return time.time() + self.clock_offset_s
