"""暂停服务: outside service hours or in maintenance, with where else to go."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import StringProperty

from kiosk.screens.base import KioskScreen
from kiosk.widgets.common import BiLabel

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class ClosedScreen(KioskScreen):
    reason_zh = StringProperty("")
    reason_en = StringProperty("")

    @property
    def instruction(self):  # type: ignore[override]
        return (self.reason_zh, self.reason_en)

    def refresh(self) -> None:
        reason = self.journey.closed_reason() or ("暂停服务", "Out of service")
        self.reason_zh, self.reason_en = reason
        box = self.ids.points
        box.clear_widgets()
        for point in self.journey.ports.config.service_points:
            box.add_widget(BiLabel(zh=point.name, role="heading"))
            box.add_widget(BiLabel(zh=f"{point.address}\n{point.hours}  电话 {point.phone}", role="body"))
