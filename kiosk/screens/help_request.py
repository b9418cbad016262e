"""帮办代办: pick what you need help with, leave a mobile number, staff call you back.

Two steps on one screen: a pick-list of matters by category (no typing), then the phone
number on the large keypad. The request is queued in the outbox, so it is kept even when
the network is down; the result screen shows the number masked.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import NumericProperty, OptionProperty, StringProperty
from kivy.uix.widget import Widget

from kiosk.errors import KioskError
from kiosk.screens.base import KioskScreen
from kiosk.services.assistance import InvalidPhoneError
from kiosk.services.journey import Outcome
from kiosk.widgets.common import BigButton

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

SELECTED = "【已选】"
PER_PAGE = {False: 8, True: 4}  # standard / 大字版: two columns, rows that share the room


class HelpRequestScreen(KioskScreen):
    step = OptionProperty("pick", options=["pick", "phone", "working"])
    category = StringProperty("")
    matter_id = StringProperty("")
    matter_zh = StringProperty("")
    matter_en = StringProperty("")
    message_zh = StringProperty("")
    message_en = StringProperty("")
    page = NumericProperty(0)
    pages = NumericProperty(1)

    @property
    def instruction(self):  # type: ignore[override]
        if self.step == "pick":
            return ("请选择您需要帮助办理的事项", "Choose what you need help with")
        return ("请输入您的11位手机号码，工作人员将联系您", "Key in your mobile number; staff will call you")

    def on_pre_enter(self, *args):
        flow = self.journey.flow
        if flow is None:
            return
        self.step, self.matter_id, self.matter_zh, self.matter_en = "pick", "", "", ""
        self.message_zh = self.message_en = ""
        self.ids.keypad.clear()
        box = self.ids.categories
        box.clear_widgets()
        choices = flow.categories()
        for choice in choices:
            button = BigButton(zh=choice.zh, en=choice.en, kind="secondary")
            button.key, button.label = choice.key, choice.zh
            button.bind(on_release=lambda b: self.pick_category(b.key))
            box.add_widget(button)
        self.pick_category(choices[0].key if choices else "")

    def pick_category(self, category: str) -> None:
        self.category, self.page = category, 0
        for button in self.ids.categories.children:
            on = button.key == category
            button.kind = "primary" if on else "secondary"
            button.zh = (SELECTED if on else "") + button.label
        self._fill()

    def turn(self, delta: int) -> None:
        self.page = max(0, min(self.pages - 1, self.page + delta))
        self._fill()

    def _fill(self) -> None:
        flow = self.journey.flow
        if flow is None:
            return
        matters = flow.matters(self.category)
        per_page = PER_PAGE[bool(self.app.theme.elder)]
        self.pages = max(1, -(-len(matters) // per_page))
        box = self.ids.matters
        box.clear_widgets()
        shown = matters[self.page * per_page : (self.page + 1) * per_page]
        for item in shown:
            button = BigButton(zh=item.name_zh, en=item.name_en, kind="secondary")
            button.item_id = item.id
            button.size_hint_y = 1  # the rows share the page's height
            button.bind(on_release=lambda b: self.pick_matter(b.item_id))
            box.add_widget(button)
        for _ in range(per_page - len(shown)):  # a short last page keeps its buttons' size
            box.add_widget(Widget())

    def pick_matter(self, item_id: str) -> None:
        item = self.journey.ports.catalogue.by_id(item_id)
        self.matter_id, self.matter_zh, self.matter_en = item.id, item.name_zh, item.name_en
        self.step = "phone"
        self.app.speak(*self.instruction)

    def change_matter(self) -> None:
        if self.step == "phone":
            self.step = "pick"
            self.message_zh = self.message_en = ""

    def submit(self, phone: str) -> None:
        flow = self.journey.flow
        if flow is None or self.step != "phone" or not self.matter_id:
            return
        self.step = "working"
        matter = self.matter_id
        self.app.worker.submit(lambda: flow.submit(phone, matter), self._queued, self._refused)

    def _queued(self, outcome: Outcome) -> None:
        self.ids.keypad.clear()
        self.finish_item(outcome)

    def _refused(self, error: KioskError) -> None:
        self.ids.keypad.clear()
        if self.journey.state != "item":
            return
        flow = self.journey.flow
        if not isinstance(error, InvalidPhoneError) and flow is not None:  # the outbox could not be written
            self.journey.finish(flow.failed_outcome(error))
            return
        self.step = "phone"
        self.message_zh, self.message_en = error.message_zh, error.message_en
        self.app.speak(self.message_zh, self.message_en)
