"""申办 step 3: read the 承诺 (commitment), confirm it, sign with a finger, submit.

The item's commitment text is shown in full with one large button to confirm it; below it the
signature box, with 重写 to clear it. 提交申请 checks the signature (a tap is no signature) and then
submits on the worker: the application is sealed and queued, the screen waits for the 办件编号
(or, when the network is down, says the application is kept and will go by itself), and the
result screen follows with the 受理回执 printed.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty

import kiosk.widgets.signature_pad  # noqa: F401 - SignaturePad in the kv rule
from kiosk.errors import KioskError
from kiosk.screens.base import KioskScreen
from kiosk.services.signature import SignatureError

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class ApplySignScreen(KioskScreen):
    commitment_zh = StringProperty("")
    commitment_en = StringProperty("")
    summary_zh = StringProperty("")
    summary_en = StringProperty("")
    committed = BooleanProperty(False)
    inked = BooleanProperty(False)  # the pad has a signature on it
    submitting = BooleanProperty(False)
    message_zh = StringProperty("")
    message_en = StringProperty("")

    @property
    def instruction(self):  # type: ignore[override]
        return ("请阅读承诺内容，点击“我已阅读并承诺”，再用手指在框内签名", "Read the commitment, tap I agree, then sign in the box with your finger")

    @property
    def flow(self):
        return self.journey.flow

    def on_pre_enter(self, *args):
        flow = self.flow
        if flow is None or not hasattr(flow, "spec"):
            return
        self.commitment_zh, self.commitment_en = flow.spec.commitment_zh, flow.spec.commitment_en
        self.committed = flow.committed
        self.submitting = False
        self.message_zh = self.message_en = ""
        delivery = flow.form.delivery_summary() if flow.form is not None else ("", "")
        given = sum(1 for m in flow.materials.values() if m.source != "none")
        self.summary_zh = f"事项：{flow.item.name_zh}；材料{given}份；{delivery[0]}"
        self.summary_en = f"{flow.item.name_en}; {given} material(s); {delivery[1]}"

    def toggle_commitment(self) -> None:
        self.committed = not self.committed
        self.flow.confirm(self.committed)

    def clear(self) -> None:
        self.ids.pad.clear()
        self.message_zh = self.message_en = ""

    def back(self) -> None:
        self.app.navigator.go("apply_materials")

    def submit(self) -> None:
        flow = self.flow
        if flow is None or self.submitting or not self.committed:
            return
        try:
            flow.sign(self.ids.pad.signature())
        except SignatureError as e:
            self.message_zh, self.message_en = e.message_zh, e.message_en
            self.app.speak(e.message_zh, e.message_en)
            return
        self.submitting = True
        self.message_zh, self.message_en = "正在提交申请，请稍候……", "Submitting your application..."
        self.app.worker.submit(flow.submit, self._done, self._refused)

    def _done(self, outcome) -> None:
        self.submitting = False
        self.ids.pad.clear()
        self.finish_item(outcome)

    def _refused(self, error: KioskError) -> None:
        self.submitting = False
        flow = self.flow
        if flow is not None:
            self.finish_item(flow.failed_outcome(error))
