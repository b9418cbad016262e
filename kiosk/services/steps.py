"""The steps of an item, for the step indicator under the header: ① 阅读须知 ② 核验身份 ③ …

A resident who can see which step of how many they are on, and what comes next, is less
likely to give up or to walk away mid-way. The steps are built from the item itself (does it
identify? what does its flow do?) and the current one from the journey's state and the screen
shown. No Kivy here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk.services.catalogue import ServiceItem


@dataclass(frozen=True)
class Step:
    key: str
    zh: str
    en: str


NOTICE = Step("notice", "阅读须知", "Read")
IDENTIFY = Step("identify", "核验身份", "Identify")
RESULT = Step("result", "办理结果", "Result")
RATING = Step("rating", "评价", "Rate")

#: what a flow does between identify and the result, in the resident's words
FLOW_STEPS: dict[str, tuple[Step, ...]] = {
    "certificate": (Step("preview", "核对打印", "Check, print"),),
    "query": (Step("view", "查看结果", "View"),),
    "payment_account": (Step("account", "输入户号", "Account"), Step("confirm", "确认金额", "Confirm"),
                        Step("pay", "扫码支付", "Pay")),
    "payment": (Step("confirm", "确认金额", "Confirm"), Step("pay", "扫码支付", "Pay")),
    "card_loss": (Step("confirm", "确认挂失", "Confirm"),),
    "card_status": (Step("view", "查看状态", "View"),),
    "card_pin_change": (Step("pin", "修改密码", "Change PIN"),),
    "help_request": (Step("request", "预约帮办", "Request"),),
    "service_map": (Step("view", "查找网点", "Find"),),
    "application": (Step("form", "填写表单", "Form"), Step("materials", "提交材料", "Materials"),
                    Step("sign", "签名承诺", "Sign")),
    "application_progress": (Step("view", "查看进度", "View"),),
}

#: flow name -> its family above
FLOW_FAMILY = {
    "contribution_certificate": "certificate",
    "rights_record": "certificate",
    "benefit_certificate": "certificate",
    "medical_certificate": "certificate",
    "medical_settlement": "certificate",
    "insurance_query": "query",
    "contribution_history": "query",
    "medical_account": "query",
    "resident_pension_query": "query",
    "utility_payment": "payment_account",
    "resident_pension_payment": "payment",
    "resident_medical_payment": "payment",
    "flexible_pension_payment": "payment",
    "card_loss": "card_loss",
    "card_status": "card_status",
    "card_pin_change": "card_pin_change",
    "help_request": "help_request",
    "service_map": "service_map",
    "application": "application",
    "application_progress": "application_progress",
}

#: screen shown during the item -> the step it is
SCREEN_STEPS = {
    "record": "preview",
    "payment_account": "account",
    "payment_confirm": "confirm",
    "payment_qr": "pay",
    "payment_code": "pay",
    "card_service": "confirm",
    "help_request": "request",
    "service_map": "view",
    "apply_form": "form",
    "apply_materials": "materials",
    "apply_sign": "sign",
    "progress": "view",
}


def steps_for(item: ServiceItem | None) -> tuple[Step, ...]:
    """Every step of the item, in order; () for a guide (nothing to step through)."""
    if item is None or not item.is_self_service:
        return ()
    middle = FLOW_STEPS.get(FLOW_FAMILY.get(item.flow or "", ""), ())
    return (NOTICE, *((IDENTIFY,) if item.identify else ()), *middle, RESULT, RATING)


def current_step(steps: tuple[Step, ...], state: str, screen: str) -> int:
    """The index of the step the resident is on; -1 when none (home, farewell)."""
    keys = [s.key for s in steps]
    wanted = {"guide": "notice", "identify": "identify", "result": "result", "rating": "rating"}.get(state)
    if state == "item":
        wanted = SCREEN_STEPS.get(screen)
        if wanted not in keys:  # query / status screens: the first step of the flow
            middle = [k for k in keys if k not in ("notice", "identify", "result", "rating")]
            wanted = middle[0] if middle else None
    return keys.index(wanted) if wanted in keys else -1
