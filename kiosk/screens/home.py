"""首页: large item tiles grouped by category, paged (no scrolling for elderly residents)."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty

from kiosk.errors import KioskError
from kiosk.screens.base import KioskScreen
from kiosk.widgets.common import BigButton, ItemTile

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class HomeScreen(KioskScreen):
    instruction = ("请选择要办理的事项", "Please choose a service")
    category = StringProperty("")
    page = NumericProperty(0)
    pages = NumericProperty(1)

    def __init__(self, **kw) -> None:
        self._tiles: dict[str, ItemTile] = {}
        self._session = ""  # the session the page number belongs to
        super().__init__(**kw)

    def refresh(self) -> None:
        groups = self.journey.ports.catalogue.by_category()
        keys = [c.value for c in groups]
        session = self.journey.session
        if session.reference != self._session:  # a new visit starts on the first page
            self._session, self.page = session.reference, 0
        # the category is the resident's choice, kept in the session: the next one starts afresh
        self.category = session.category if session.category in keys else (keys[0] if keys else "")
        bar = self.ids.categories
        # built once and kept: widgets rebuilt on every visit are garbage for the collector,
        # whose full passes then stall a touch (see kiosk.heap)
        if [b.category_key for b in reversed(bar.children)] != keys:
            bar.clear_widgets()
            for cat in groups:
                button = BigButton(zh=cat.label_zh, en=cat.label_en)
                button.category_key = cat.value
                button.bind(on_release=lambda _b, c=cat.value: self.show_category(c))
                bar.add_widget(button)
        for button in bar.children:
            button.kind = "primary" if button.category_key == self.category else "secondary"
        self._fill_tiles()

    def on_device_event(self, event) -> None:
        """A device went down or came back: the tiles say so now, not at the next visit."""
        super().on_device_event(event)
        if event.kind.value in ("status", "paper"):
            self._fill_tiles()

    def show_category(self, category: str) -> None:
        self.journey.session.category, self.page = category, 0
        self.refresh()

    def turn(self, delta: int) -> None:
        self.page = max(0, min(self.pages - 1, self.page + delta))
        self._fill_tiles()

    def _fill_tiles(self) -> None:
        items = [
            items
            for cat, items in self.journey.ports.catalogue.by_category().items()
            if cat.value == self.category
        ]
        items = items[0] if items else []
        per_page = self.app.theme.sizes.tiles_per_page
        self.pages = max(1, -(-len(items) // per_page))
        self.page = min(self.page, self.pages - 1)
        grid = self.ids.tiles
        grid.clear_widgets()
        for item in items[self.page * per_page : (self.page + 1) * per_page]:
            reason = self.journey.unavailable_reason(item)
            if reason is not None:
                note = reason
            elif item.kind != "self_service":
                note = ("办事指南", "Guide only")
            else:
                note = ("", "")
            tile = self._tiles.get(item.id)
            if tile is None:  # one tile per item for the life of the screen
                tile = self._tiles[item.id] = ItemTile(item_id=item.id, zh=item.name_zh, en=item.name_en)
                tile.bind(on_release=lambda t: self.choose(t.item_id))
            tile.available, tile.note_zh, tile.note_en = reason is None, note[0], note[1]
            grid.add_widget(tile)

    def choose(self, item_id: str) -> None:
        try:
            self.journey.choose(item_id)
        except KioskError as e:
            self.app.say(e.message_zh, e.message_en, "error")
