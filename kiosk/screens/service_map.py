"""政务服务地图: the service points near this terminal, large and readable, by category.

A pick-list of categories (全部 first) filters the points; each point shows its name,
address, hours, phone, what it handles, whether a self-service terminal stands there, and a
QR code carrying the same text so the resident can take it away on a phone.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.screens.base import KioskScreen
from kiosk.services.assistance import PointView
from kiosk.widgets.common import BigButton

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

SELECTED = "【已选】"


class PointCard(BoxLayout):
    """One service point: text on the left, its QR code on the right."""

    name = StringProperty("")
    details_zh = StringProperty("")
    details_en = StringProperty("")
    qr_text = StringProperty("")

    @classmethod
    def of(cls, point: PointView) -> PointCard:
        return cls(
            name=point.name,
            details_zh=f"地址：{point.address}\n办公时间：{point.hours}\n电话：{point.phone}\n"
            f"可办：{'、'.join(point.categories)}\n{point.terminal_zh}",
            details_en=point.terminal_en,
            qr_text=point.qr_text,
        )


class ServiceMapScreen(KioskScreen):
    instruction = ("请选择事项类别，查看可以办理的服务网点", "Pick a category to see where it is handled")
    category = StringProperty("")
    count = NumericProperty(0)

    def on_pre_enter(self, *args):
        flow = self.journey.flow
        if flow is None:
            return
        box = self.ids.categories
        box.clear_widgets()
        for choice in flow.categories():
            button = BigButton(zh=choice.zh, en=choice.en, kind="secondary")
            button.key, button.label = choice.key, choice.zh
            button.bind(on_release=lambda b: self.pick(b.key))
            box.add_widget(button)
        self.pick("")

    def pick(self, category: str) -> None:
        flow = self.journey.flow
        if flow is None:
            return
        self.category = category
        for button in self.ids.categories.children:
            on = button.key == category
            button.kind = "primary" if on else "secondary"
            button.zh = (SELECTED if on else "") + button.label
        points = flow.points(category)
        self.count = len(points)
        box = self.ids.points
        box.clear_widgets()
        for point in points:
            box.add_widget(PointCard.of(point))
        self.ids.scroll.scroll_y = 1

    def done(self) -> None:
        flow = self.journey.flow
        if flow is not None:
            self.finish_item(flow.done_outcome())
