"""申办 step 1: the form. The ID card's values are filled in; the rest is picked or keyed.

Two parts on one screen: the list of the form's lines (each with its value, masked where it is
personal, or what it still needs), and the editor of one line: a pick-list of a code table, a
region picked level by level (province -> city -> county -> township -> village), the numeric
keypad, or the result's delivery (post to the card's address, post to a picked address with a
house number, or collect at a service point). Whatever is wrong with an entry is said where it
was entered, with what to do; nothing is ever typed as text.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import (
    BooleanProperty,
    NumericProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from kiosk.screens.base import KioskScreen
from kiosk.services.application_form import DELIVERY, FormError
from kiosk.widgets.common import BigButton

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

SELECTED = "【已选】"
DELIVERY_CHOICES = {
    "mail_card": ("邮寄到身份证地址", "Post to the address on my ID card"),
    "mail_region": ("邮寄到其他地址", "Post to another address"),
    "pickup": ("到服务网点领取", "Collect at a service point"),
}


class FormRow(ButtonBehavior, BoxLayout):
    """One line of the form: its label, its value (or what it needs) and how it is filled."""

    key = StringProperty("")
    label_zh = StringProperty("")
    label_en = StringProperty("")
    value_zh = StringProperty("")
    value_en = StringProperty("")
    from_card = BooleanProperty(False)
    required = BooleanProperty(True)


class ApplyFormScreen(KioskScreen):
    mode = OptionProperty("list", options=["list", "pick", "keypad", "loading"])
    item_zh = StringProperty("")
    item_en = StringProperty("")
    editing_zh = StringProperty("")  # what is being filled: 户籍性质 ...
    editing_en = StringProperty("")
    path_zh = StringProperty("")  # a region picked so far
    path_en = StringProperty("")
    message_zh = StringProperty("")
    message_en = StringProperty("")
    complete = BooleanProperty(False)
    can_go_up = BooleanProperty(False)
    page = NumericProperty(0)
    pages = NumericProperty(1)
    keypad_max = NumericProperty(11)
    keypad_min = NumericProperty(1)

    _choices: list[tuple[str, str, str]] = []
    _on_choose = None
    _on_keyed = None
    _trail: list[str] = []

    @property
    def instruction(self):  # type: ignore[override]
        if self.mode == "pick":
            return (f"请选择：{self.editing_zh}", f"Choose: {self.editing_en}")
        if self.mode == "keypad":
            return (f"请输入：{self.editing_zh}", f"Key in: {self.editing_en}")
        return ("请核对身份证信息，并逐项选择或输入其余内容", "Check the details from your ID card and fill in the rest")

    @property
    def flow(self):
        return self.journey.flow

    def on_pre_enter(self, *args):
        flow = self.flow
        if flow is None or self.journey.item is None:
            return
        self.item_zh, self.item_en = self.journey.item.name_zh, self.journey.item.name_en
        if flow.form is None:
            self.mode = "loading"
            self.app.worker.submit(flow.prepare, self._prepared, self._failed)
            return
        self.show_list()

    def _prepared(self, outcome) -> None:
        if outcome is not None:
            self.finish_item(outcome)
            return
        self.show_list()

    def _failed(self, error) -> None:
        flow = self.flow
        if flow is not None:
            self.finish_item(flow.failed_outcome(error))

    # --- the list -----------------------------------------------------------------------------

    def show_list(self) -> None:
        flow = self.flow
        if flow is None or flow.form is None:
            return
        self.mode = "list"
        self.message_zh = self.message_en = ""
        box = self.ids.rows
        box.clear_widgets()
        for line in flow.form.lines():
            row = FormRow(key=line.key, label_zh=line.label_zh, label_en=line.label_en, value_zh=line.shown_zh,
                          value_en=line.shown_en, from_card=line.from_card, required=line.required)
            if not line.from_card:
                row.bind(on_release=lambda r: self.edit(r.key))
            box.add_widget(row)
        self.complete = flow.form.complete

    # --- editing one line ------------------------------------------------------------------------

    def edit(self, key: str) -> None:
        form = self.flow.form
        self.message_zh = self.message_en = ""
        self.path_zh = self.path_en = ""
        if key == DELIVERY:
            self.editing_zh, self.editing_en = "结果领取方式", "How you receive the result"
            choices = [(c, *DELIVERY_CHOICES[c]) for c in form.delivery_choices()]
            self._pick(choices, self._delivery_chosen)
            return
        spec = form.spec.field(key)
        self.editing_zh, self.editing_en = spec.label_zh, spec.label_en
        if spec.kind == "pick":
            table = form.codes.table(spec.table)
            self._pick([(e.code, e.zh, e.en) for e in table.entries], lambda code: self._set(form.set_pick, key, code),
                       chosen=form.values.get(key, ""))
        elif spec.kind == "region":
            self._region(lambda code: self._set(form.set_region, key, code), key)
        elif spec.kind == "phone":
            self._keypad(11, 11, lambda digits: self._set(form.set_phone, key, digits))
        elif spec.kind == "number":
            self._keypad(len(str(spec.max)), 1, lambda digits: self._set(form.set_number, key, digits))

    def _set(self, setter, key: str, value: str) -> None:
        try:
            setter(key, value)
        except FormError as e:
            self._error(e)
            return
        self.show_list()

    def _error(self, e: FormError) -> None:
        self.message_zh, self.message_en = e.message_zh, e.message_en
        self.app.speak(e.message_zh, e.message_en)

    def _delivery_chosen(self, choice: str) -> None:
        form = self.flow.form
        if choice == "mail_card":
            self._set(lambda _k, c: form.set_delivery(c), DELIVERY, choice)
        elif choice == "mail_region":
            self.editing_zh, self.editing_en = "邮寄地址", "Postal address"
            self._region(self._house_number, DELIVERY)
        else:
            self.editing_zh, self.editing_en = "领取网点", "Service point"
            points = [(p, p, p) for p in form.service_points]
            self._pick(points, lambda p: self._set(lambda _k, v: form.set_delivery("pickup", point=v), DELIVERY, p))

    def _house_number(self, region: str) -> None:
        form = self.flow.form
        self.editing_zh, self.editing_en = "门牌号", "House number"

        def keyed(digits: str) -> None:
            self._set(lambda _k, v: form.set_delivery("mail_region", region=region, house=v), DELIVERY, digits)

        self._keypad(4, 1, keyed)
        self.path_zh, self.path_en = form.codes.address(region), form.codes.address(region, "en")

    # --- a pick-list, a region, the keypad ---------------------------------------------------------

    def _pick(self, choices: list[tuple[str, str, str]], on_choose, chosen: str = "") -> None:
        self._choices, self._on_choose, self._chosen = choices, on_choose, chosen
        self.mode, self.page = "pick", 0
        self._fill()
        self.app.speak(*self.instruction)

    def _region(self, on_done, key: str) -> None:
        self._trail = []
        self._region_key, self._region_done = key, on_done
        self._region_level()

    def _region_level(self) -> None:
        codes = self.flow.form.codes
        parent = self._trail[-1] if self._trail else ""
        self.path_zh = codes.address(parent) if parent else ""
        self.path_en = codes.address(parent, "en") if parent else ""
        self.can_go_up = bool(self._trail)
        choices = [(r.code, r.zh, r.en) for r in codes.children(parent)]
        self._pick(choices, self._region_chosen)

    def _region_chosen(self, code: str) -> None:
        if self.flow.form.region_done(self._region_key, code):
            self.can_go_up = False
            self.path_zh = self.path_en = ""
            self._region_done(code)
            return
        self._trail.append(code)
        self._region_level()

    def go_up(self) -> None:
        if self._trail:
            self._trail.pop()
            self._region_level()

    def _fill(self) -> None:
        per_page = 6 if self.app.theme.elder else 10
        self.pages = max(1, -(-len(self._choices) // per_page))
        box = self.ids.choices
        box.clear_widgets()
        for code, zh, en in self._choices[self.page * per_page:(self.page + 1) * per_page]:
            on = code == getattr(self, "_chosen", "")
            button = BigButton(zh=(SELECTED if on else "") + zh, en=en, kind="primary" if on else "secondary")
            button.code = code
            button.bind(on_release=lambda b: self._on_choose(b.code))
            box.add_widget(button)

    def turn(self, delta: int) -> None:
        self.page = max(0, min(self.pages - 1, self.page + delta))
        self._fill()

    def _keypad(self, longest: int, shortest: int, on_keyed) -> None:
        self._on_keyed = on_keyed
        self.keypad_max, self.keypad_min = longest, shortest
        self.ids.keypad.clear()
        self.mode = "keypad"
        self.app.speak(*self.instruction)

    def keyed(self, digits: str) -> None:
        if self._on_keyed is not None:
            self._on_keyed(digits)
        self.ids.keypad.clear()

    def back_to_list(self) -> None:
        self.can_go_up = False
        self.path_zh = self.path_en = ""
        self.show_list()

    def next_step(self) -> None:
        if self.flow is not None and self.flow.form is not None and self.flow.form.complete:
            self.app.navigator.go("apply_materials")
