"""The kiosk's basic widgets: bilingual labels, big buttons, item tiles, banners, tables.

The active language first, the other second and smaller, on every label and button, so a
resident never has to find a language switch to understand a screen: Chinese big with English
beneath by default, English big with Chinese beneath after the 中文/English switch. ``zh`` is
the catalogue's message id (``kiosk.i18n``); ``en`` is the fallback for text that comes from
data. Sizes come from the theme tokens.
"""

from __future__ import annotations

from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView

from kiosk.i18n import both
from kiosk.kivy_setup import run_awake
from kiosk.widgets.card import CardShape  # noqa: F401 - registered for the kv rules
from kiosk.widgets.theme import COLOURS, hex_rgba

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class BiLabel(BoxLayout):
    """A text in the active language with the other language beneath, smaller."""

    zh = StringProperty("")
    en = StringProperty("")
    role = OptionProperty("body", options=["body", "heading", "title", "small"])
    halign = StringProperty("left")
    color_key = StringProperty("text")


class Icon(Label):
    """A pictogram from the icon font (``kiosk.widgets.icons``): ``text`` is its glyph."""


#: button kind -> its fill colour token
BUTTON_FILLS = {"primary": "primary", "secondary": "surface", "danger": "error", "plain": "surface"}


class BigButton(ButtonBehavior, BoxLayout):
    """A large bilingual button (at least the theme's target size in both directions), with an
    optional pictogram (``icon``: a glyph from ``kiosk.widgets.icons``) left of the words or,
    with ``icon_top``, above them."""

    zh = StringProperty("")
    en = StringProperty("")
    kind = OptionProperty("primary", options=["primary", "secondary", "danger", "plain"])
    enabled = BooleanProperty(True)
    icon = StringProperty("")
    icon_top = BooleanProperty(False)
    #: height wanted (0: the theme's target); words that need more get more
    tall = NumericProperty(0)
    #: takes no room at all (height 0) and is not drawn
    collapsed = BooleanProperty(False)
    #: drawn (False: invisible, its place kept); screens use it instead of opacity
    shown = BooleanProperty(True)
    #: the fill as drawn (the layout audit checks a disabled button's contrast against it)
    fill_rgba = ListProperty([1, 1, 1, 1])

    def on_kind(self, *_args) -> None:
        self.fill_rgba = list(hex_rgba(COLOURS[BUTTON_FILLS[self.kind]]))

    def on_kv_post(self, base_widget) -> None:
        self.on_kind()

    def on_touch_down(self, touch):  # a disabled button swallows nothing and does nothing
        if not self.enabled:
            return False
        return super().on_touch_down(touch)


class ItemTile(ButtonBehavior, BoxLayout):
    """A service item on the home screen: its pictogram, its name, and a note in words (why it
    is unavailable, or that it is a guide to read)."""

    item_id = StringProperty("")
    zh = StringProperty("")
    en = StringProperty("")
    icon = StringProperty("")
    note_zh = StringProperty("")  # why it is unavailable, or 办事指南 for guides
    note_en = StringProperty("")
    note_icon = StringProperty("")
    available = BooleanProperty(True)


class RatingChoice(ButtonBehavior, BoxLayout):
    """One of the five 好差评 levels: a face and its words, all five the same size and colour."""

    zh = StringProperty("")
    en = StringProperty("")
    icon = StringProperty("")
    chosen = BooleanProperty(False)


class Banner(BoxLayout):
    """A message line: info / warning / error, with a pictogram, a word and text (never colour
    alone)."""

    level = OptionProperty("info", options=["info", "warning", "error", "success"])
    zh = StringProperty("")
    en = StringProperty("")


class Reveal(BoxLayout):
    """A part of a screen that is shown or not (a step of a screen). Hidden, it draws nothing and
    takes no touch. Not ``disabled``: Kivy lets a disabled widget swallow every touch in its
    area, and a hidden part's children keep their sizes, so they would swallow the touches
    meant for the visible part beside them."""

    shown = BooleanProperty(True)

    def on_touch_down(self, touch):
        return super().on_touch_down(touch) if self.shown else False

    def on_touch_move(self, touch):
        return super().on_touch_move(touch) if self.shown else False

    def on_touch_up(self, touch):
        return super().on_touch_up(touch) if self.shown else False


class Scroller(ScrollView):
    """A list that scrolls up and down, its bar always shown the same (the theme's border colour).

    Kivy's ScrollView lights its bar up on every scroll, and on every change of its content's
    size, then fades it over half a second: each step of the fade is a frame of the whole
    window, ~40 frames after every language or 大字版 switch on a screen with a list, hidden
    lists included. A steady bar costs no frame and tells a resident all the time that there
    is more below."""

    def _bind_inactive_bar_color(self, *_args) -> None:
        # Kivy's fade to ``bar_inactive_color`` (an Animation, scheduled 0.5 s after a scroll):
        # even to the same colour it redraws, as its interpolation is not exact. Not started.
        return


class Pager(Reveal):
    """上一页 · 第 2 / 4 页 · 下一页: a paged list's way through, shown only when there is more
    than one page. Fires ``on_turn`` with -1 or +1; the screen turns its own page."""

    page = NumericProperty(0)
    pages = NumericProperty(1)

    __events__ = ("on_turn",)

    def on_turn(self, delta: int) -> None:
        """Default handler (bind ``on_turn``)."""


class StepBar(BoxLayout):
    """① 阅读须知 ② 核验身份 ③ … under the header: which step of how many, and what is next.
    ``steps``: (zh, en) pairs; ``current``: the index of the step on screen (-1: none)."""

    steps = ListProperty([])
    current = NumericProperty(-1)

    def __init__(self, **kw) -> None:
        self._marks: list[StepMark] = []  # made once, given new words (see _build)
        super().__init__(**kw)

    def on_steps(self, *_args) -> None:
        self._build()

    def on_current(self, *_args) -> None:
        for i, step in enumerate(reversed(self.children)):
            step.state_name = "done" if i < self.current else ("now" if i == self.current else "next")

    def _build(self) -> None:
        # the marks are made once and given new words: an item's steps change on every visit,
        # and widgets made on every tap are both the tap's time and the collector's work
        pool = self._marks
        while len(pool) < len(self.steps):
            mark = StepMark(number=len(pool) + 1)
            mark.bind(minimum_height=self.fit)
            pool.append(mark)
        for mark, (zh, en) in zip(pool, self.steps, strict=False):
            mark.zh, mark.en = zh, en
        wanted = pool[: len(self.steps)]
        if list(reversed(self.children)) != wanted:
            self.clear_widgets()
            for mark in wanted:
                self.add_widget(mark)
        self.on_current()
        self.fit()

    def fit(self, *_args) -> None:
        """As tall as the tallest step (a name that wraps, the other language beneath), never
        shorter than a touch target and a quarter; no height at all without steps."""
        from kivy.app import App

        if not self.steps:
            self.height = 0
            return
        theme = App.get_running_app().theme
        tallest = max((c.minimum_height for c in self.children), default=0)
        self.height = max(theme.dp("target") * 1.25, tallest + self.padding[1] + self.padding[3])


class StepMark(BoxLayout):
    number = NumericProperty(1)
    zh = StringProperty("")
    en = StringProperty("")
    state_name = OptionProperty("next", options=["done", "now", "next"])


class Table(GridLayout):
    """A large-type table: header row plus rows of strings."""

    header = ListProperty([])
    body = ListProperty([])  # list of rows (GridLayout already owns the name ``rows``)
    font_scale = NumericProperty(1.0)

    def __init__(self, **kw) -> None:
        # cells are made once and given new words; new header, body and language in one tap
        # (a screen's refresh sets both, a woken screen its language) lay the table out once,
        # before the next frame
        self._cells: list[TableCell] = []
        self._trigger_rebuild = Clock.create_trigger(lambda _dt: self._rebuild(), -1)
        super().__init__(**kw)

    def on_kv_post(self, base_widget):
        from kivy.app import App

        app = App.get_running_app()
        if app is not None and hasattr(app, "lang"):
            # a method, which Kivy's bind holds weakly: the query and admin screens make new
            # tables on each visit, and a lambda would keep every one of them alive for good
            app.bind(lang=self._lang_changed)

    def _lang_changed(self, *_args) -> None:
        run_awake(self, "lang", self._trigger_rebuild)

    def on_header(self, *_):
        self._trigger_rebuild()

    def on_body(self, *_):
        self._trigger_rebuild()

    def _rebuild(self) -> None:
        from kivy.app import App

        app = App.get_running_app()
        theme, lang = app.theme, getattr(app, "lang", "zh")
        # column names and status words are catalogue strings, shown in both languages like
        # every label (the other one beneath a column name, beside a status word); values the
        # catalogue does not know (amounts, months, names) are shown as they are
        texts = [(both(str(text), "", lang, "\n"), True) for text in self.header]
        texts += [(both(str(text), "", lang, " "), False) for row in self.body for text in row]
        while len(self._cells) < len(texts):
            cell = TableCell()
            cell.bind(texture_size=self._fit_rows)  # a cell that wraps makes its whole row taller
            self._cells.append(cell)
        cells = self._cells[: len(texts)]
        for cell, (text, bold) in zip(cells, texts, strict=True):
            cell.text, cell.bold, cell.font_size = text, bold, theme.sp("body")
        self.cols = max(1, len(self.header) or (len(self.body[0]) if self.body else 1))
        if list(reversed(self.children)) != cells:
            self.clear_widgets()
            for cell in cells:
                self.add_widget(cell)
        self._fit_rows()

    def _fit_rows(self, *_args) -> None:
        """Every cell of a row as tall as the tallest one, so no row shows a band of border."""
        from kivy.app import App

        theme = App.get_running_app().theme
        cells = list(reversed(self.children))  # in the order they were added
        cols = max(1, self.cols or 1)
        for start in range(0, len(cells), cols):
            row = cells[start : start + cols]
            height = max(max(theme.dp("target") * 0.8, c.texture_size[1] + theme.dp("pad")) for c in row)
            for cell in row:
                cell.height = height


class TableCell(Label):
    pass
