"""个人参保缴费证明: choose the scheme and the months, check them, then print exactly that.

The scheme is a row of big buttons; the first and last month are picked from lists (a row
of years, then a grid of months), never typed. What the screen shows is what the paper
certifies: the same months, the same 个人缴费合计 (only what was paid) and, apart from it,
应缴未缴 (owed for the range and not paid yet).

Loading, choosing and printing block (backend, printer), so they run on the worker; the
screen shows progress meanwhile and a plain sentence when there is nothing on record.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout

from kiosk.errors import KioskError
from kiosk.money import yuan
from kiosk.screens.base import KioskScreen
from kiosk.services.contribution_record import MONTH_HEADER, ContributionRecord
from kiosk.services.journey import Outcome
from kiosk.services.queries import QUERY_FAILED, QUERY_FAILED_THEN, SCHEME_SHORT, SCHEME_SHORT_EN
from kiosk.widgets.common import BigButton, BiLabel

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

#: month rows a page shows, standard and 大字版
ROWS_PER_PAGE = {False: 8, True: 3}
#: year buttons shown at once in the month picker; 更近 / 更早 move the window
YEARS_SHOWN = {False: 3, True: 2}
#: month buttons a row of the picker holds
MONTH_COLUMNS = {False: 6, True: 4}


def _ym_zh(period: str) -> str:
    return f"{period[:4]}年{period[5:7]}月" if period else ""


def _even_row(row: BoxLayout, least: float) -> None:
    """The buttons of one row all as tall as the tallest (a label that wraps makes it taller)."""
    buttons = list(row.children)

    def fit(*_args) -> None:
        row.height = max([least, *(b.minimum_height for b in buttons)])

    for b in buttons:
        b.size_hint_y = 1
        b.bind(minimum_height=fit)
    fit()


class RecordScreen(KioskScreen):
    instruction = ("请选择险种和起止年月，核对后点击打印", "Choose the insurance and the months, check them, then press Print")
    loaded = BooleanProperty(False)
    empty = BooleanProperty(False)
    busy = BooleanProperty(False)
    who_zh = StringProperty("")
    summary_zh = StringProperty("")
    summary_en = StringProperty("")
    facts_zh = StringProperty("")
    facts_en = StringProperty("")
    start_zh = StringProperty("")
    start_en = StringProperty("")
    end_zh = StringProperty("")
    end_en = StringProperty("")
    picking = StringProperty("")  # "", "start" or "end": which month the picker is choosing
    page = NumericProperty(0)
    pages = NumericProperty(1)

    record: ContributionRecord | None = None
    picker_year = 0
    year_offset = 0

    def on_pre_enter(self, *args):
        self.record = None
        self.loaded, self.empty, self.busy, self.page, self.pages, self.picking = False, False, True, 0, 1, ""
        self.ids.months.header, self.ids.months.body = [], []
        self.ids.schemes.clear_widgets()
        self.ids.schemes.height = 0
        self.ids.picker.clear_widgets()
        self.who_zh = self.summary_zh = self.summary_en = self.facts_zh = self.facts_en = ""
        self.start_zh = self.start_en = self.end_zh = self.end_en = ""
        flow = self.journey.flow
        self.app.worker.submit(flow.load, lambda record: self._show(flow, record), self._failed)

    @property
    def _elder(self) -> bool:
        return bool(getattr(self.app.theme, "elder", False))

    # --- showing --------------------------------------------------------------------------

    def _show(self, flow, record: ContributionRecord) -> None:
        if self.journey.flow is not flow or self.journey.state != "item":
            return  # the session ended while the backend answered
        self.record = record
        self.loaded, self.busy, self.picking, self.page = True, False, "", 0
        self.empty = record.empty
        self.who_zh = f"{record.masked_name}    {record.masked_id}"
        self._fill_schemes()
        self._fill_picker()
        if record.empty:
            self.summary_zh = "未查询到您的参保缴费记录。如有疑问，请到社保窗口咨询。"
            self.summary_en = "No insurance or contribution record was found. Please ask at a social-security window."
            self.pages = 1
            self._fill_months()
            return
        self.start_zh, self.start_en = f"起：{_ym_zh(record.start)}", f"From {record.start}"
        self.end_zh, self.end_en = f"止：{_ym_zh(record.end)}", f"To {record.end}"
        due = f"（{record.due_months}个月）" if record.due_months else ""
        self.summary_zh = f"个人缴费合计 {yuan(record.paid_fen)}    应缴未缴 {yuan(record.due_fen)}{due}"
        self.summary_en = f"Paid by you {yuan(record.paid_fen)}    Due, not yet paid {yuan(record.due_fen)}"
        chosen = record.chosen
        if chosen is not None:
            paid = f" · 累计缴费 {chosen.months_paid}个月" if chosen.months_paid is not None else ""
            self.facts_zh = f"{chosen.name}：{chosen.status} · 参保起始 {chosen.since}{paid}"
            self.facts_en = f"{chosen.status} since {chosen.since}" + (
                f", {chosen.months_paid} months paid in all" if chosen.months_paid is not None else "")
        if not record.months:
            self.facts_zh = "所选期间没有缴费记录，可重新选择起止年月"
            self.facts_en = "Nothing on record for these months; pick other months"
        self.pages = max(1, -(-len(record.months) // ROWS_PER_PAGE[self._elder]))
        self._fill_months()

    def _fill_schemes(self) -> None:
        box = self.ids.schemes
        box.clear_widgets()
        box.height = 0
        record = self.record
        if record is None or record.empty:
            return
        for s in record.schemes:
            chosen = s.scheme == record.scheme
            # chosen is said in words too, never by colour alone
            button = BigButton(zh=("【已选】" if chosen else "") + SCHEME_SHORT.get(s.scheme, s.name),
                               en=("[Selected] " if chosen else "") + SCHEME_SHORT_EN.get(s.scheme, ""),
                               kind="primary" if chosen else "secondary")
            button.scheme = s.scheme
            button.bind(on_release=lambda b: self.choose_scheme(b.scheme))
            box.add_widget(button)
        _even_row(box, self.app.theme.dp("target") * 1.1)

    def _fill_months(self) -> None:
        record = self.record
        if record is None or not record.months or self.picking:
            self.ids.months.header, self.ids.months.body = [], []
            return
        per_page = ROWS_PER_PAGE[self._elder]
        self.ids.months.header = list(MONTH_HEADER)
        self.ids.months.body = [list(row) for row in record.rows[self.page * per_page : (self.page + 1) * per_page]]

    def turn(self, delta: int) -> None:
        self.page = max(0, min(self.pages - 1, self.page + delta))
        self._fill_months()

    # --- the month picker -----------------------------------------------------------------

    def pick(self, which: str) -> None:
        """Open (or close, tapped again) the picker for the first or the last month."""
        record = self.record
        if record is None or record.empty or self.busy:
            return
        if self.picking == which:
            self.cancel_pick()
            return
        self.picking = which
        self.picker_year = int((record.start if which == "start" else record.end)[:4])
        years = list(record.years)
        index = years.index(self.picker_year) if self.picker_year in years else 0
        shown = YEARS_SHOWN[self._elder]
        self.year_offset = max(0, min(index - shown // 2, len(years) - shown))
        self._fill_months()
        self._fill_picker()

    def cancel_pick(self) -> None:
        self.picking = ""
        self._fill_picker()
        self._fill_months()

    def shift_years(self, direction: int) -> None:
        if self.record is None:
            return
        shown = YEARS_SHOWN[self._elder]
        self.year_offset = max(0, min(len(self.record.years) - shown, self.year_offset + direction * shown))
        self._fill_picker()

    def pick_year(self, year: int) -> None:
        self.picker_year = year
        self._fill_picker()

    def _fill_picker(self) -> None:
        box = self.ids.picker
        box.clear_widgets()
        record = self.record
        if record is None or not self.picking:
            return
        theme = self.app.theme
        box.add_widget(BiLabel(zh="请选择起始年月" if self.picking == "start" else "请选择截止年月",
                               en="Pick the first month" if self.picking == "start" else "Pick the last month",
                               role="heading"))
        years = BoxLayout(size_hint_y=None, height=theme.dp("target") * 1.1, spacing=theme.dp("pad") * 0.6)
        shown = YEARS_SHOWN[self._elder]
        if self.year_offset > 0:
            years.add_widget(BigButton(zh="更近", en="Later", kind="plain", on_release=lambda *_: self.shift_years(-1)))
        for year in record.years[self.year_offset : self.year_offset + shown]:
            chosen = year == self.picker_year
            button = BigButton(zh=("【已选】" if chosen else "") + f"{year}年", en=("[Selected] " if chosen else "") + str(year),
                               kind="primary" if chosen else "secondary")
            button.year = year
            button.bind(on_release=lambda b: self.pick_year(b.year))
            years.add_widget(button)
        if self.year_offset + shown < len(record.years):
            years.add_widget(BigButton(zh="更早", en="Earlier", kind="plain", on_release=lambda *_: self.shift_years(1)))
        _even_row(years, theme.dp("target") * 1.1)
        box.add_widget(years)
        current = record.start if self.picking == "start" else record.end
        grid = GridLayout(cols=MONTH_COLUMNS[self._elder], size_hint_y=None, spacing=theme.dp("pad") * 0.5)
        grid.bind(minimum_height=grid.setter("height"))
        for month in record.months_for(self.picker_year):
            period = f"{self.picker_year}-{month:02d}"
            chosen = period == current
            button = BigButton(zh=("【已选】" if chosen else "") + f"{month}月", en=("[Selected] " if chosen else "") + f"{month:02d}",
                               kind="primary" if chosen else "secondary")
            button.period = period
            button.bind(on_release=lambda b: self.pick_month(b.period))
            grid.add_widget(button)
        box.add_widget(grid)
        box.add_widget(BigButton(zh="取消选择", en="Keep the months", kind="plain",
                                 on_release=lambda *_: self.cancel_pick()))

    def pick_month(self, period: str) -> None:
        flow = self.journey.flow
        if flow is None or self.busy or not self.picking:
            return
        which, self.busy = self.picking, True
        call = (lambda: flow.choose(start=period)) if which == "start" else (lambda: flow.choose(end=period))
        self.app.worker.submit(call, lambda record: self._show(flow, record), self._failed)

    def choose_scheme(self, scheme: str) -> None:
        flow = self.journey.flow
        if flow is None or self.busy or self.record is None or scheme == self.record.scheme:
            return
        self.busy = True
        self.app.worker.submit(lambda: flow.choose(scheme=scheme), lambda record: self._show(flow, record),
                               self._failed)

    # --- actions --------------------------------------------------------------------------

    def _failed(self, error: KioskError) -> None:
        self.busy = False
        if self.journey.state != "item":
            return
        self.journey.finish(Outcome.failed(error, self.journey.session.matter_no,
                                           title=QUERY_FAILED, then=QUERY_FAILED_THEN))

    def print_now(self) -> None:
        flow = self.journey.flow
        if flow is None or self.busy or self.picking:
            return
        self.busy = True
        self.app.worker.submit(flow.print_certificate, self._printed, self._failed)

    def _printed(self, outcome: Outcome) -> None:
        self.busy = False
        self.finish_item(outcome)

    def finish_without_print(self) -> None:
        self.journey.finish(
            Outcome(ok=True, title_zh="查询完成", title_en="Query finished",
                    message_zh=self.summary_zh, message_en=self.summary_en,
                    reference=self.journey.session.matter_no)
        )
