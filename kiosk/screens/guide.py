"""一次性告知: everything the resident needs to know about an item, told once, before starting."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.errors import KioskError
from kiosk.screens.base import KioskScreen
from kiosk.widgets.common import BiLabel

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

#: how many items' guides stay built (each is a dozen large labels with their textures)
GUIDES_KEPT = 6
#: the short notice: (field, pictogram, head zh, head en)
FACTS = (
    ("materials", "file-document-outline", "所需材料", "What to bring"),
    ("time_limit", "clock-outline", "办理时限", "How long"),
    ("fees", "currency-cny", "收费标准", "Fee"),
    ("location", "map-marker", "办理地点", "Where"),
)


class GuideFact(BoxLayout):
    draws_ink = True  # a card on the page: not a bare band (kiosk.tours.layout)
    icon = StringProperty("")
    head_zh = StringProperty("")
    head_en = StringProperty("")
    body_zh = StringProperty("")
    body_en = StringProperty("")


class GuideScreen(KioskScreen):
    instruction = ("请阅读办事须知，然后点击开始办理", "Read what you need, then press Start")
    title_zh = StringProperty("")
    title_en = StringProperty("")
    startable = BooleanProperty(False)
    full = BooleanProperty(False)  # the full notice instead of its short form

    def __init__(self, **kw) -> None:
        # the labels of the last few guides shown, kept: residents often come back to the same
        # items, and widgets built on every visit are work for the collector (kiosk.heap)
        self._built: OrderedDict[str, list[BiLabel]] = OrderedDict()
        super().__init__(**kw)

    def refresh(self) -> None:
        item = self.journey.item
        if item is None:
            return
        self.title_zh, self.title_en = item.name_zh, item.name_en
        self.startable = item.kind == "self_service"
        self.full = False
        self._fill_facts(item)
        # the full notice is laid out when asked for (on_full): hidden, its ~10-20 labels were
        # made, measured, wrapped and drawn on the tile's tap all the same
        self.ids.sections.clear_widgets()

    def on_full(self, *_args) -> None:
        item = self.journey.item if self.full else None
        if item is None:
            return
        box = self.ids.sections
        labels = self._built.pop(item.id, None) or _section_labels(item)
        self._built[item.id] = labels  # the most recently shown last
        while len(self._built) > GUIDES_KEPT:
            self._built.popitem(last=False)
        if list(reversed(box.children)) != labels:
            box.clear_widgets()
            for label in labels:
                box.add_widget(label)

    def _fill_facts(self, item) -> None:
        grid = self.ids.facts
        if not grid.children:  # the same facts for every item: made once, given each item's words
            for _name, icon, head_zh, head_en in FACTS:
                grid.add_widget(GuideFact(icon=icon, head_zh=head_zh, head_en=head_en))
        english = {name: value for name, _label, value in item.guide.sections("en")}
        for fact, (name, _icon, _head_zh, _head_en) in zip(reversed(grid.children), FACTS, strict=True):
            zh = _as_text(name, getattr(item.guide, name))
            en = _as_text(name, english.get(name, ""))
            fact.body_zh, fact.body_en = zh, "" if en == zh else en

    def toggle_full(self) -> None:
        self.full = not self.full
        self.ids.scroll.scroll_y = 1

    def start(self) -> None:
        try:
            self.journey.proceed()
        except KioskError as e:
            self.app.say(e.message_zh, e.message_en, "error")


def _section_labels(item) -> list[BiLabel]:
    labels = []
    english = {name: (label, value) for name, label, value in item.guide.sections("en")}
    for name, head_zh, body_zh in item.guide.sections("zh"):
        if not body_zh:
            continue
        head_en, body_en = english[name]
        text_zh, text_en = _as_text(name, body_zh), _as_text(name, body_en)
        labels.append(BiLabel(zh=head_zh, en=head_en, role="heading"))
        # the English line only where the catalogue has a translation of its own
        labels.append(BiLabel(zh=text_zh, en="" if text_en == text_zh else text_en, role="body"))
    return labels


def _as_text(name: str, value: str | tuple[str, ...]) -> str:
    """Materials as bullets, steps numbered, anything else as it is."""
    if isinstance(value, str):
        return value
    if name == "process":
        return "\n".join(f"{i}. {step}" for i, step in enumerate(value, 1))
    return "\n".join(f"· {entry}" for entry in value)
