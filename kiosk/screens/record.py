"""个人参保缴费证明: the resident's insurance and contributions, then print.

Loading and printing block (backend, printer), so both run on the worker; the screen shows
progress meanwhile and a plain sentence when there is nothing on record.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.errors import KioskError
from kiosk.screens.base import KioskScreen
from kiosk.services.certificates import ContributionRecord, yuan
from kiosk.services.journey import Outcome
from kiosk.services.queries import QUERY_FAILED, QUERY_FAILED_THEN

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

ROWS_PER_PAGE = 6


class RecordScreen(KioskScreen):
    instruction = ("请核对您的参保缴费信息，然后点击打印", "Check your record, then press Print")
    loaded = BooleanProperty(False)
    empty = BooleanProperty(False)
    who_zh = StringProperty("")
    summary_zh = StringProperty("")
    summary_en = StringProperty("")
    page = NumericProperty(0)
    pages = NumericProperty(1)

    def on_pre_enter(self, *args):
        self.loaded, self.empty, self.page = False, False, 0
        self.ids.schemes.body, self.ids.months.body = [], []
        self.who_zh = self.summary_zh = self.summary_en = ""
        flow = self.journey.flow
        self.app.worker.submit(flow.load, self._show, self._failed)

    def _show(self, record: ContributionRecord) -> None:
        if self.journey.flow is None:  # the session ended while loading
            return
        self.loaded = True
        self.empty = record.empty
        self.who_zh = f"{record.masked_name}    {record.masked_id}"
        self.ids.schemes.header = ["险种", "状态", "参保时间"]
        self.ids.schemes.body = [[s.name, s.status, s.since] for s in record.schemes]
        if record.empty:
            self.summary_zh = "未查询到您的参保缴费记录。如有疑问，请到社保窗口咨询。"
            self.summary_en = "No insurance or contribution record was found. Please ask at a social-security window."
        elif record.months:
            self.summary_zh = f"{record.year}年缴费明细：个人缴费合计 {yuan(record.year_total_fen)}"
            self.summary_en = f"Contributions in {record.year}: {yuan(record.year_total_fen)} paid by you"
        else:
            self.summary_zh = f"{record.year or ''}年暂无缴费记录"
            self.summary_en = f"No contributions recorded in {record.year or 'this year'}"
        self.pages = max(1, -(-len(record.months) // ROWS_PER_PAGE))
        self._fill_months()

    def turn(self, delta: int) -> None:
        self.page = max(0, min(self.pages - 1, self.page + delta))
        self._fill_months()

    def _fill_months(self) -> None:
        record = self.journey.flow.record if self.journey.flow else None
        if record is None:
            return
        self.ids.months.header = ["月份", "险种", "个人缴费", "状态"] if record.months else []
        rows = record.months[self.page * ROWS_PER_PAGE : (self.page + 1) * ROWS_PER_PAGE]
        self.ids.months.body = [[m.period, m.scheme, yuan(m.personal_fen), m.status] for m in rows]

    def _failed(self, error: KioskError) -> None:
        if self.journey.state != "item":
            return
        self.journey.finish(Outcome.failed(error, self.journey.session.matter_no,
                                           title=QUERY_FAILED, then=QUERY_FAILED_THEN))

    def print_now(self) -> None:
        flow = self.journey.flow
        self.app.worker.submit(flow.print_certificate, self.finish_item, self._failed)

    def finish_without_print(self) -> None:
        self.journey.finish(
            Outcome(ok=True, title_zh="查询完成", title_en="Query finished",
                    message_zh=self.summary_zh, message_en=self.summary_en,
                    reference=self.journey.session.matter_no)
        )
