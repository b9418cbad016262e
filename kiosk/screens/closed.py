"""暂停服务: outside service hours or in maintenance, with where else to go."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.screens.base import KioskScreen

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class ServicePointCard(BoxLayout):
    draws_ink = True  # a card on the page (kiosk.tours.layout)
    name = StringProperty("")
    address = StringProperty("")
    hours_zh = StringProperty("")
    hours_en = StringProperty("")


class ClosedScreen(KioskScreen):
    reason_zh = StringProperty("")
    reason_en = StringProperty("")
    maintenance = BooleanProperty(False)

    @property
    def instruction(self):  # type: ignore[override]
        return (self.reason_zh, self.reason_en)

    def refresh(self) -> None:
        reason = self.journey.closed_reason() or ("暂停服务", "Out of service")
        self.reason_zh, self.reason_en = reason
        self.maintenance = self.journey.maintenance
        box = self.ids.points
        box.clear_widgets()
        for point in self.journey.ports.config.service_points:
            box.add_widget(ServicePointCard(
                name=point.name, address=point.address,
                hours_zh=f"{point.hours}  电话 {point.phone}", hours_en=f"{point.hours}  Tel. {point.phone}",
            ))
