"""扫码核验: identify with the 电子社保卡 or 电子身份证 QR code on the resident's phone.

The code is a token the platform issued to the resident's app a moment ago: it lives 60 s and
works once. The terminal never reads a person out of it; it asks the backend who it stands
for (``BackendClient.resolve_identity_code``) and gets the identity it would have read from a
card. What the resident is told when that fails says what to do next: refresh the code in
the app and show it again (expired, used, not recognised), show an identity code rather than a
payment code, or use a card.

Blocking (HTTP): call ``identity_from_code`` on a worker. No Kivy here.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from kiosk.errors import BackendError, IdentityError
from kiosk.hardware.scanner_frame import ScannedCode
from kiosk.identity import CardType, Identity, Sex

#: a payment code (付款码) as the payer's app shows it: digits only
PAYMENT_CODE = re.compile(r"^[0-9]{16,24}$")

#: backend refusal -> what the resident is told (the first sentence says why, the second what to do)
REFUSALS: dict[str, tuple[str, str]] = {
    "token_expired": ("二维码已过期。请在电子社保卡或电子身份证App中刷新二维码，再对准扫码窗口",
                      "The code has expired. Refresh it in your electronic social security card or ID app, "
                      "then show it again"),
    "token_used": ("此二维码已使用过。请在电子社保卡或电子身份证App中刷新二维码，再对准扫码窗口",
                   "This code has already been used. Refresh it in your electronic social security card or ID "
                   "app, then show it again"),
    "token_forged": ("无法核验此二维码。请在电子社保卡或电子身份证App中刷新二维码，再对准扫码窗口",
                     "This code cannot be verified. Refresh it in your electronic social security card or ID "
                     "app, then show it again"),
    "token_unknown": ("无法识别此二维码。请出示电子社保卡或电子身份证的二维码",
                      "This code is not recognised. Show the code of your electronic social security card or ID"),
}
NOT_AN_IDENTITY = ("这是付款码，不能用于核验身份。请出示电子社保卡或电子身份证的二维码",
                   "This is a payment code, not an identity code. Show your electronic social security card or ID")
SOURCES = {"e_sscard": CardType.E_SSCARD, "e_id": CardType.E_ID}


def identity_from_code(backend: Any, code: ScannedCode, idempotency_key: str) -> Identity:
    """The resident a scanned code stands for. Raises ``IdentityError`` with the resident's
    next step when the code cannot identify anyone; ``BackendError`` when the backend could not
    answer (the resident may try again or use a card). Blocking."""
    text = code.text.strip()
    if PAYMENT_CODE.fullmatch(text):
        raise IdentityError("a payment code was shown to identify",
                            message_zh=NOT_AN_IDENTITY[0], message_en=NOT_AN_IDENTITY[1], code="payment_code")
    try:
        answer = backend.resolve_identity_code(text, idempotency_key=idempotency_key)
    except BackendError as e:
        words = REFUSALS.get(e.code)
        if words is None:
            raise
        raise IdentityError(f"identity code refused: {e.code}", message_zh=words[0], message_en=words[1],
                            code=e.code) from None
    birth = answer.get("birth_date")
    return Identity(
        card_type=SOURCES[str(answer["source"])],
        name=str(answer["name"]),
        id_number=str(answer["id_number"]).upper(),
        sex=Sex(str(answer.get("sex") or "0")),
        birth_date=dt.date.fromisoformat(birth) if birth else None,
    )
