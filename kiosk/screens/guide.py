"""一次性告知: everything the resident needs to know about an item, told once, before starting."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty

from kiosk.errors import KioskError
from kiosk.screens.base import KioskScreen
from kiosk.widgets.common import BiLabel

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class GuideScreen(KioskScreen):
    instruction = ("请阅读办事须知，然后点击开始办理", "Read what you need, then press Start")
    title_zh = StringProperty("")
    title_en = StringProperty("")
    startable = BooleanProperty(False)

    def refresh(self) -> None:
        item = self.journey.item
        if item is None:
            return
        self.title_zh, self.title_en = item.name_zh, item.name_en
        self.startable = item.kind == "self_service"
        g = item.guide
        box = self.ids.sections
        box.clear_widgets()
        sections = [
            ("申请条件", "Conditions", g.conditions, getattr(g, "conditions_en", "")),
            ("申请材料", "Materials", "\n".join(f"· {m}" for m in g.materials), ""),
            ("办理流程", "Steps", "\n".join(f"{i}. {s}" for i, s in enumerate(g.process, 1)), ""),
            ("办理时限", "Time limit", g.time_limit, ""),
            ("收费标准", "Fees", g.fees, ""),
            ("办理地点", "Where", g.location, getattr(g, "location_en", "")),
            ("咨询电话", "Contact", g.contact, ""),
        ]
        for head_zh, head_en, body_zh, body_en in sections:
            if not body_zh:
                continue
            box.add_widget(BiLabel(zh=head_zh, en=head_en, role="heading"))
            box.add_widget(BiLabel(zh=body_zh, en=body_en, role="body"))

    def start(self) -> None:
        try:
            self.journey.proceed()
        except KioskError as e:
            self.app.say(e.message_zh, e.message_en, "error")
