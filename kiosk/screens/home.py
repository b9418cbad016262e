"""首页: large picture tiles, 常用 first, grouped by category and paged (no scrolling for elderly
residents).

The first group is 常用: the items residents come for most (``ui.hot_items``), all on the
first page in standard mode. Each tile shows the item's pictogram, its name in both languages
and, for a guide or an unavailable item, a note with its own pictogram and words.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.widget import Widget

from kiosk.errors import KioskError
from kiosk.screens.base import KioskScreen
from kiosk.widgets import icons
from kiosk.widgets.common import BigButton, ItemTile

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

HOT = ("hot", "常用", "Most used")
GUIDE_NOTE = ("办事指南", "Guide only")


class HomeScreen(KioskScreen):
    instruction = ("请选择要办理的事项", "Please choose a service")
    category = StringProperty("")
    page = NumericProperty(0)
    pages = NumericProperty(1)

    def __init__(self, **kw) -> None:
        self._tiles: dict[str, ItemTile] = {}
        self._blanks: list[Widget] = []
        self._session = ""  # the session the page number belongs to
        super().__init__(**kw)

    def groups(self) -> list[tuple[str, str, str, tuple]]:
        """(key, zh, en, items) for the category bar: 常用, then the catalogue's categories."""
        catalogue = self.journey.ports.catalogue
        hot = catalogue.hot(self.journey.ports.config.ui.hot_items)
        out = [(HOT[0], HOT[1], HOT[2], hot)] if hot else []
        out += [(c.value, c.label_zh, c.label_en, items) for c, items in catalogue.by_category().items()]
        return out

    def refresh(self) -> None:
        groups = self.groups()
        keys = [g[0] for g in groups]
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
            for key, zh, en, _items in groups:
                button = BigButton(zh=zh, en=en, icon=icons.for_category(key))
                button.category_key = key
                button.bind(on_release=lambda _b, c=key: self.show_category(c))
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
        items = next((g[3] for g in self.groups() if g[0] == self.category), ())
        sizes = self.app.theme.sizes
        per_page = sizes.tiles_per_page
        self.pages = max(1, -(-len(items) // per_page))
        self.page = min(self.page, self.pages - 1)
        grid = self.ids.tiles
        grid.clear_widgets()
        grid.cols = sizes.tile_cols
        shown = items[self.page * per_page : (self.page + 1) * per_page]
        for item in shown:
            reason = self.journey.unavailable_reason(item)
            if reason is not None:
                note, note_icon = reason, icons.chrome("error")
            elif item.kind != "self_service":
                note, note_icon = GUIDE_NOTE, icons.chrome("guide_only")
            else:
                note, note_icon = ("", ""), ""
            tile = self._tiles.get(item.id)
            if tile is None:  # one tile per item for the life of the screen
                tile = self._tiles[item.id] = ItemTile(item_id=item.id, zh=item.name_zh, en=item.name_en,
                                                       icon=icons.for_item(item.id, item.category.value))
                tile.bind(on_release=lambda t: self.choose(t.item_id))
                tile.size_hint_y = 1  # the rows share the page's height: no bare band below
            tile.available, tile.note_zh, tile.note_en, tile.note_icon = reason is None, note[0], note[1], note_icon
            grid.add_widget(tile)
        # a short last page keeps the tiles' size: empty cells, not stretched tiles
        while len(self._blanks) < per_page:
            self._blanks.append(Widget())
        for blank in self._blanks[: per_page - len(shown)]:
            grid.add_widget(blank)

    def choose(self, item_id: str) -> None:
        try:
            self.journey.choose(item_id)
        except KioskError as e:
            self.app.say(e.message_zh, e.message_en, "error")
