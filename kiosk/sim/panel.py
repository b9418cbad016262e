"""The reviewers' simulator panel: act on the emulated devices from inside the kiosk window.

``kiosk demo`` (and the tours and screenshots it shares its set-up with) hands the app a way to
open it; ``platform`` is the simulated government platform, for paying an order. Each button
calls an emulator — the far side of the real driver's transport — through the worker, so
the kiosk sees exactly what a real card, key or empty printer would cause.
"""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.lang import Builder
from kivy.uix.modalview import ModalView

from kiosk.hardware.base import PaperStatus
from kiosk.identity import mask_name
from kiosk.sim.demo_data import BY_KEY
from kiosk.widgets.common import BigButton

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

#: residents offered for the social-security card (a few with telling records)
SSCARD_RESIDENTS = ("wang_jianguo", "liu_yan", "chen_ming", "zhao_li", "zhang_xiuying")


class SimulatorPanel(ModalView):
    def __init__(self, platform=None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.platform = platform  # kiosk.sim.backend.ReferenceBackend, or None

    def on_pre_open(self) -> None:
        app = App.get_running_app()
        hub = app.kiosk.hub
        self._fill("idcards", [
            (f"放置 {label}", "Place this ID card", lambda k=key: hub.emulator("idcard").place(k))
            for key, label in (hub.emulator("idcard").cards() if hub.emulator("idcard") else [])
        ] + [("取走身份证", "Take the ID card away", lambda: hub.emulator("idcard").remove())])
        sscard = hub.emulator("sscard")
        self._fill("sscards", [
            (f"插入社保卡 {mask_name(BY_KEY[k].name)}", "Insert a social security card", lambda k=k: sscard.insert(k))
            for k in SSCARD_RESIDENTS if sscard is not None
        ] + [("拔出社保卡", "Remove the card", lambda: sscard.remove())] if sscard is not None else [])
        pad = hub.emulator("ratingpad")
        labels = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
        self._fill("pad", [
            (f"评价器按 {labels[n]}", f"Pad key {n}", lambda n=n: pad.press(n)) for n in (5, 4, 3, 2, 1)
        ] if pad is not None else [])
        self._fill("payment", [
            ("模拟扫码支付", "Pay the order on screen", lambda: self._pay(app)),
        ] if self.platform is not None else [])
        printer = hub.emulator("printer")
        self._fill("printer", [
            ("打印机缺纸", "Printer out of paper", lambda: printer.set_paper(PaperStatus.OUT)),
            ("纸将用尽", "Paper running low", lambda: printer.set_paper(PaperStatus.LOW)),
            ("装入新纸", "New paper roll", lambda: printer.set_paper(PaperStatus.FULL)),
        ] if printer is not None else [])

    def _pay(self, app) -> None:
        """The resident's phone, simulated: the platform marks the current order paid."""
        payment = getattr(app.kiosk.journey.flow, "payment", None)
        order_no = getattr(payment, "order_no", "")
        if order_no:
            self.platform.mark_paid(order_no)

    def _fill(self, box_id: str, actions) -> None:
        box = self.ids[box_id]
        box.clear_widgets()
        app = App.get_running_app()
        for zh, en, action in actions:
            button = BigButton(zh=zh, en=en, kind="secondary")
            button.bind(on_release=lambda _b, a=action: app.worker.submit(a))
            box.add_widget(button)
