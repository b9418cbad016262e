"""办件进度查询: each application with its steps, what a correction asks for, the tracking number.

Loaded on the worker when the screen opens (by the card the resident placed, or by the 受理回执's
QR code when a scanner read it); 完成 leads to the result and the rating like every query.
"""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.errors import KioskError
from kiosk.screens.base import KioskScreen

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

STEP_EN = {"受理": "Accepted", "审核": "Review", "补正": "Correction", "办结": "Decided", "已寄出": "Posted",
           "待领取": "Ready to collect", "已在本终端提交，等待网络恢复后送达": "Kept on this terminal until the network is back"}


class CaseCard(BoxLayout):
    number = StringProperty("")
    item_zh = StringProperty("")
    item_en = StringProperty("")
    status_zh = StringProperty("")
    status_en = StringProperty("")
    status = StringProperty("")
    promised = StringProperty("")
    steps = ListProperty([])  # (zh, en, when, note)
    corrections_zh = StringProperty("")
    tracking = StringProperty("")
    delivery_zh = StringProperty("")

    def on_kv_post(self, base_widget) -> None:
        self.on_steps()

    def on_steps(self, *_args) -> None:
        """The timeline: a tick for each step passed, a clock for the one it is at now."""
        from kiosk.widgets import icons
        from kiosk.widgets.common import BiLabel, Icon

        if "timeline" not in self.ids:  # the kv rule is not applied yet: on_kv_post builds it
            return
        box = self.ids.timeline
        box.clear_widgets()
        for i, (zh, en, when, note) in enumerate(self.steps):
            last = i == len(self.steps) - 1
            row = BoxLayout(size_hint_y=None, spacing=8)
            app = App.get_running_app()
            mark = Icon(text=icons.chrome("time" if last and self.status not in ("posted", "done") else "ok"),
                        font_size=app.theme.sp("button"), pos_hint={"top": 1})
            note = "" if zh == "补正" else note  # the reasons have their own banner below
            text = BiLabel(zh=f"{zh}　{when}" + (f"　{note}" if note else ""),
                           en=f"{en}  {when}" + (f"  {note}" if note else ""), role="body")
            row.add_widget(mark)
            row.add_widget(text)
            text.bind(minimum_height=lambda _t, h, r=row, m=mark: setattr(r, "height", max(h, m.height)))
            box.add_widget(row)


class ProgressScreen(KioskScreen):
    loaded = BooleanProperty(False)
    empty = BooleanProperty(False)
    by_code = BooleanProperty(False)

    @property
    def instruction(self):  # type: ignore[override]
        return ("以下是您的办件进度", "This is the progress of your applications")

    def on_pre_enter(self, *args):
        flow = self.journey.flow
        if flow is None or not hasattr(flow, "cases"):
            return
        self.loaded, self.empty, self.by_code = False, False, flow.by_code
        self.ids.cases.clear_widgets()
        self.app.worker.submit(flow.load, self._show, self._failed)

    def _show(self, cases) -> None:
        box = self.ids.cases
        box.clear_widgets()
        catalogue = self.journey.ports.catalogue
        for case in cases:
            item_en = catalogue.by_id(case.item_id).name_en if case.item_id in catalogue else case.item_name
            box.add_widget(CaseCard(
                number=case.number, item_zh=case.item_name, item_en=item_en, status=case.status, status_zh=case.status_zh,
                status_en=case.status_en, promised=case.promised_by,
                steps=[(s.name_zh, STEP_EN.get(s.name_zh, s.name_zh), s.at, s.note_zh) for s in case.steps],
                corrections_zh="；".join(case.corrections), tracking=case.tracking_no, delivery_zh=case.delivery_zh))
        self.empty = not cases
        self.loaded = True

    def _failed(self, error: KioskError) -> None:
        flow = self.journey.flow
        if flow is not None:
            self.finish_item(flow.failed_outcome(error))

    def done(self) -> None:
        flow = self.journey.flow
        if flow is not None and self.loaded:
            self.finish_item(flow.outcome())
