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
    "contribution_certificate": "kiosk.services.certificates:ContributionCertificateFlow",
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
