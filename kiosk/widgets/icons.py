"""Pictograms for every category, item tile, footer button, banner, result and rating level.

The glyphs come from the Material Design Icons font in ``assets/fonts`` (Apache 2.0): a glyph
in a Kivy label is sharp at any size and costs one texture like any text. This module holds
only names and code points (no kivy import), so a test can check that every name resolves and
that every catalogue item and category has a picture.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

ASSETS = Path(__file__).resolve().parents[2] / "assets"
ICON_FONT = ASSETS / "fonts" / "materialdesignicons-webfont.ttf"
CODEPOINTS = ASSETS / "fonts" / "materialdesignicons.json"
#: the name Kivy knows the icon font by (registered by the app)
FONT_NAME = "KioskIcons"

CATEGORIES = {
    "hot": "star-circle",
    "social_security": "shield-account",
    "medical": "medical-bag",
    "payment": "cash-multiple",
    "civil_affairs": "account-heart",
    "employment": "briefcase-account",
    "certificate": "file-certificate",
    "other": "office-building",
}

#: items whose picture says more than their category's
ITEMS = {
    "sscard_temporary_loss": "credit-card-chip",
    "sscard_status_query": "card-bulleted",
    "sscard_password_reset": "lock",
    "sscard_password_change": "form-textbox-password",
    "sscard_application": "credit-card-chip",
    "insured_status_query": "clipboard-text-search-outline",
    "contribution_history_query": "clipboard-list-outline",
    "resident_pension_query": "account-cash",
    "pension_eligibility_certification": "account-check",
    "medical_account_query": "hospital-box",
    "medical_insured_query": "clipboard-text-search-outline",
    "resident_pension_payment": "hand-coin",
    "resident_medical_payment": "heart-pulse",
    "flexible_pension_payment": "hand-coin",
    "water_bill": "water",
    "electricity_bill": "lightning-bolt",
    "gas_bill": "fire",
    "contribution_certificate": "file-certificate",
    "rights_record": "file-document-outline",
    "benefit_certificate": "certificate",
    "medical_contribution_certificate": "file-certificate",
    "medical_settlement_statement": "receipt-text-check",
    "help_request": "account-tie",
    "service_map": "map-marker-radius",
    "maternity_allowance": "baby-face-outline",
    "maternity_medical_claim": "baby-face-outline",
    "longevity_allowance": "human-cane",
    "elderly_hardship_subsidy": "human-cane",
    "elderly_preferential_card": "card-account-details-outline",
    "disability_subsidies": "wheelchair-accessibility",
    "disability_certificate": "wheelchair-accessibility",
    "marriage_registration": "ribbon",
    "birth_registration": "baby-face-outline",
    "vocational_training_enrolment": "school",
    "job_seeker_registration": "account-search",
    "real_estate_record_query": "home-city",
    "legal_aid": "scale-balance",
    "resident_pension_enrolment": "file-document-edit-outline",
    "resident_medical_enrolment": "file-document-edit-outline",
    "flexible_worker_enrolment": "file-document-edit-outline",
    "unemployment_registration": "file-document-edit-outline",
    "application_progress": "progress-clock",
}

#: the footer and header buttons, results, banners
CHROME = {
    "home": "home",
    "elder": "format-size",
    "mute": "volume-off",
    "unmute": "volume-high",
    "help": "help-circle-outline",
    "simulator": "tools",
    "language": "translate",
    "guide_only": "book-open-page-variant",
    "ok": "check-circle",
    "failed": "close-circle",
    "unknown": "timer-sand",
    "info": "information",
    "warning": "alert",
    "error": "alert-circle",
    "success": "check-circle",
    "print": "printer",
    "printer_down": "printer-alert",
    "idcard": "card-account-details",
    "sscard": "credit-card-chip",
    "keyed": "numeric",
    "back": "chevron-left",
    "next": "chevron-right",
    "qr": "qrcode",
    "scan": "qrcode-scan",  # 扫码核验: a code on the phone shown to the scanner
    "paycode": "barcode-scan",  # 付款码: the payer's payment code shown to the scanner
    "pin": "form-textbox-password",
    "time": "clock-outline",
    "camera": "camera-document",
    "capture": "camera",
    "licence": "file-certificate",
    "sign": "draw",
    "mail": "truck-delivery",
    "pickup": "map-marker",
    "edit": "pencil",
    "delete": "delete-outline",
    "submit": "file-upload-outline",
}

#: 好差评 levels 5..1: faces that differ in shape, not only in colour (and never a hint: all
#: five are drawn the same size in the same colour)
LEVELS = {
    5: "emoticon-excited-outline",
    4: "emoticon-happy-outline",
    3: "emoticon-neutral-outline",
    2: "emoticon-sad-outline",
    1: "emoticon-cry-outline",
}


@cache
def _codepoints() -> dict[str, str]:
    return json.loads(CODEPOINTS.read_text(encoding="utf-8"))


def glyph(name: str) -> str:
    """The character that draws icon ``name`` in the icon font ("" for an unknown name)."""
    code = _codepoints().get(name)
    return chr(int(code, 16)) if code else ""


def for_item(item_id: str, category: str) -> str:
    return glyph(ITEMS.get(item_id) or CATEGORIES.get(category, "office-building"))


def for_category(category: str) -> str:
    return glyph(CATEGORIES.get(category, "office-building"))


def chrome(name: str) -> str:
    return glyph(CHROME[name])


def level(value: int) -> str:
    return glyph(LEVELS[value])
