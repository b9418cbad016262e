"""Which flow runs which catalogue item: a name in ``services.toml`` -> a flow class.

A flow holds one item family's own steps between identify and result. Flows are plain
objects with blocking methods (backend, printer); the UI runs those on a worker thread.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from kiosk.errors import JourneyError

if TYPE_CHECKING:
    from kiosk.services.catalogue import ServiceItem
    from kiosk.services.journey import Journey

#: flow name -> "module:Class"; imported on first use
FLOWS: dict[str, str] = {
    # 证明打印
    "contribution_certificate": "kiosk.services.certificates:ContributionCertificateFlow",
    "rights_record": "kiosk.services.certificates:RightsRecordFlow",
    "benefit_certificate": "kiosk.services.certificates:BenefitCertificateFlow",
    "medical_certificate": "kiosk.services.certificates:MedicalCertificateFlow",
    "medical_settlement": "kiosk.services.certificates:MedicalSettlementFlow",
    # 查询
    "insurance_query": "kiosk.services.queries:InsuranceQueryFlow",
    "contribution_history": "kiosk.services.queries:ContributionHistoryFlow",
    "medical_account": "kiosk.services.queries:MedicalAccountFlow",
    "resident_pension_query": "kiosk.services.queries:ResidentPensionQueryFlow",
    # 缴费
    "utility_payment": "kiosk.services.payments:UtilityPaymentFlow",
    "resident_pension_payment": "kiosk.services.payments:ContributionPaymentFlow",
    "resident_medical_payment": "kiosk.services.payments:ContributionPaymentFlow",
    "flexible_pension_payment": "kiosk.services.payments:ContributionPaymentFlow",
    # 社保卡服务
    "card_loss": "kiosk.services.card_services:CardLossFlow",
    "card_status": "kiosk.services.card_services:CardStatusFlow",
    "card_pin_change": "kiosk.services.card_pin:CardPinFlow",
    # 帮办代办, 政务服务地图
    "help_request": "kiosk.services.assistance:HelpRequestFlow",
    "service_map": "kiosk.services.assistance:ServiceMapFlow",
    # 24-hour 自助申办, 办件进度查询
    "application": "kiosk.services.application:ApplicationFlow",
    "application_progress": "kiosk.services.progress:ProgressFlow",
}


def flow_for(item: ServiceItem, journey: Journey) -> Any:
    target = FLOWS.get(item.flow or "")
    if target is None:
        raise JourneyError(
            f"no flow {item.flow!r} for item {item.id}",
            message_zh="此事项暂未开通自助办理，请到窗口办理",
            message_en="This item is not yet available here; please go to a service window",
        )
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)(item, journey)
