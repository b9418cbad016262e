"""查询 and 证明打印: one screen for every flow that gives a ``QueryView``.

The flow's view is shown a page at a time (上一页 / 下一页, never scrolling) in large type;
years are big buttons; a certificate flow adds a print button. Loading, choosing a year,
printing and finishing block (backend, printer, journal), so they run on the worker and the
screen only redraws from what comes back.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.errors import KioskError
from kiosk.screens.base import KioskScreen
from kiosk.services.journey import Outcome
from kiosk.services.queries import QUERY_FAILED, QUERY_FAILED_THEN, Panel, QueryView
from kiosk.widgets.common import BigButton, BiLabel, Table

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

#: screen lines a page may use (a table row or a label/value row is one line)
LINES_PER_PAGE = {False: 13, True: 8}
#: year buttons shown at once; 更早 / 更近 move the window
CHOICES_SHOWN = {False: 5, True: 3}


class QueryScreen(KioskScreen):
    instruction = ("请查看您的信息，可点击下一页翻看", "Read your record; press Next for more")
    loaded = BooleanProperty(False)
    empty = BooleanProperty(False)
    busy = BooleanProperty(False)
    can_print = BooleanProperty(False)
    has_choices = BooleanProperty(False)
    title_zh = StringProperty("")
    title_en = StringProperty("")
    who = StringProperty("")
    message_zh = StringProperty("")
    message_en = StringProperty("")
    print_zh = StringProperty("")
    print_en = StringProperty("")
    page = NumericProperty(0)
    pages = NumericProperty(1)
    choice_start = NumericProperty(0)

    view: QueryView | None = None

    def on_pre_enter(self, *args):
        self.view = None
        self.loaded = self.empty = self.can_print = self.has_choices = False
        self.busy = True
        self.page, self.pages, self.choice_start = 0, 1, 0
        self.title_zh = self.journey.item.name_zh if self.journey.item else ""
        self.title_en = self.journey.item.name_en if self.journey.item else ""
        self.who = self.message_zh = self.message_en = ""
        self.ids.body.clear_widgets()
        self.ids.choices.clear_widgets()
        flow = self.journey.flow
        self.app.worker.submit(flow.load, lambda view: self._show(flow, view), self._failed)

    # --- showing --------------------------------------------------------------------------

    @property
    def _elder(self) -> bool:
        return bool(getattr(self.app.theme, "elder", False))

    def _show(self, flow, view: QueryView) -> None:
        if self.journey.flow is not flow or self.journey.state != "item":
            return  # the session ended while the backend answered
        self.view = view
        self.busy = False
        self.loaded = True
        self.empty = view.empty
        self.title_zh, self.title_en = view.title_zh, view.title_en
        self.who = view.who
        self.message_zh, self.message_en = view.message_zh, view.message_en
        self.can_print = view.can_print
        self.print_zh, self.print_en = view.print_zh, view.print_en
        self.has_choices = bool(view.choices)
        values = [c.value for c in view.choices]
        if view.chosen in values and not (self.choice_start <= values.index(view.chosen) < self.choice_start + self._shown):
            self.choice_start = max(0, values.index(view.chosen) - self._shown + 1)
        self._fill_choices()
        self.pages = len(view.pages(LINES_PER_PAGE[self._elder]))
        self.page = 0
        self._fill_page()

    @property
    def _shown(self) -> int:
        return CHOICES_SHOWN[self._elder]

    def _fill_choices(self) -> None:
        box = self.ids.choices
        box.clear_widgets()
        view = self.view
        if view is None or not view.choices:
            return
        shown = view.choices[self.choice_start : self.choice_start + self._shown]
        if self.choice_start > 0:
            box.add_widget(BigButton(zh="更近", en="Later", kind="plain", on_release=lambda *_: self.shift_choices(-1)))
        for choice in shown:
            chosen = choice.value == view.chosen
            # chosen is said in words too, never by colour alone
            button = BigButton(zh=("【已选】" if chosen else "") + choice.label_zh, en=choice.label_en,
                               kind="primary" if chosen else "secondary")
            button.choice_value = choice.value
            button.bind(on_release=lambda b: self.choose(b.choice_value))
            box.add_widget(button)
        if self.choice_start + self._shown < len(view.choices):
            box.add_widget(BigButton(zh="更早", en="Earlier", kind="plain", on_release=lambda *_: self.shift_choices(1)))

    def shift_choices(self, direction: int) -> None:
        if self.view is None:
            return
        last = max(0, len(self.view.choices) - self._shown)
        self.choice_start = max(0, min(last, self.choice_start + direction * self._shown))
        self._fill_choices()

    def _fill_page(self) -> None:
        body = self.ids.body
        body.clear_widgets()
        if self.view is None:
            return
        pages = self.view.pages(LINES_PER_PAGE[self._elder])
        for panel in pages[min(self.page, len(pages) - 1)]:
            self._add_panel(panel)

    def _add_panel(self, panel: Panel) -> None:
        body = self.ids.body
        body.add_widget(BiLabel(zh=panel.title_zh, en=panel.title_en, role="heading"))
        if panel.rows:
            body.add_widget(_table([], [[r.label_zh, r.value] for r in panel.rows]))
        if panel.header:
            body.add_widget(_table(list(panel.header), [list(row) for row in panel.body]))
        if panel.note_zh:
            body.add_widget(BiLabel(zh=panel.note_zh, en=panel.note_en))

    def turn(self, delta: int) -> None:
        self.page = max(0, min(self.pages - 1, self.page + delta))
        self._fill_page()

    # --- actions --------------------------------------------------------------------------

    def choose(self, value: int) -> None:
        flow = self.journey.flow
        if flow is None or self.busy or (self.view is not None and value == self.view.chosen):
            return
        self.busy = True
        self.app.worker.submit(lambda: flow.choose(value), lambda view: self._show(flow, view), self._failed)

    def print_now(self) -> None:
        flow = self.journey.flow
        if flow is None or self.busy or not self.can_print:
            return
        self.busy = True
        self.app.worker.submit(flow.print_certificate, self._ended, self._failed)

    def finish(self) -> None:
        flow = self.journey.flow
        if flow is None or self.busy:
            return
        self.busy = True
        self.app.worker.submit(flow.done, self._ended, self._failed)

    def _ended(self, outcome: Outcome) -> None:
        self.busy = False
        self.finish_item(outcome)

    def _failed(self, error: KioskError) -> None:
        self.busy = False
        if self.journey.state != "item":
            return
        self.journey.finish(Outcome.failed(error, self.journey.session.matter_no,
                                           title=QUERY_FAILED, then=QUERY_FAILED_THEN))


def _table(header: list[str], body: list[list[str]]) -> Table:
    # filled after construction: a Table builds its cells on canvas, which exists only then
    table = Table()
    table.header, table.body = header, body
    return table
