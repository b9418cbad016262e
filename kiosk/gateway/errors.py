"""The gateway's one error: what the terminal sees in the one error shape.

``retryable`` says whether the same request may succeed later. A request that is wrong (bad
signature, bad body, too large, too deep) is never retryable: sending it again gives the same
answer. Only the gateway's or the platform's own trouble is (5xx).
"""

from __future__ import annotations

from typing import Any

from kiosk.backend import models as m


class ApiError(Exception):
    def __init__(self, status: int, code: str, zh: str, en: str, retryable: bool = False) -> None:
        super().__init__(code)
        self.status, self.code, self.zh, self.en, self.retryable = status, code, zh, en, retryable

    def body(self) -> dict[str, Any]:
        return m.error_body(self.code, self.zh, self.en, self.retryable)


class PlatformUnavailable(ApiError):
    """The platform behind the gateway cannot be reached or failed: try later."""

    def __init__(self, en: str = "the government platform is unavailable") -> None:
        super().__init__(503, "platform_unavailable", "服务暂不可用，请稍后再试", en, True)


def bad_request(code: str, en: str, zh: str = "请求格式错误", status: int = 400) -> ApiError:
    return ApiError(status, code, zh, en, False)
