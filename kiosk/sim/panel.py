"""The reviewers' simulator panel: act on the emulated devices from inside the kiosk window.

``kiosk demo`` (and the tours and screenshots it shares its set-up with) hands the app a way to
open it; ``platform`` is the simulated government platform, for paying an order. Each button
calls an emulator — the far side of the real driver's transport — through the worker, so
the kiosk sees exactly what a real card, key or empty printer would cause.

The panel is built once and kept, and each tab's buttons are built the first time the tab is
shown: it opens at once. A status line says what lies on each reader now. The demo residents
are listed by name (they are fictional) with what makes each one worth trying.

Sections are registered in ``SECTIONS``: a new emulated device adds one ``Section`` whose
``fill(panel, box)`` puts its buttons into ``box`` (``panel.button(zh, en, action)`` makes one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.modalview import ModalView

from kiosk.hardware.base import PaperStatus
from kiosk.sim.demo_data import BY_KEY, RESIDENTS, DemoResident
from kiosk.widgets.common import BigButton

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

#: the ID-card emulator's cards that are no demo resident
SPECIAL_CARDS = {
    "hmt_permit": ("港澳台居民居住证", "HK/Macao/Taiwan residence permit"),
    "foreigner_2017": ("外国人永久居留证（2017版）", "Foreigner permanent residence card (2017)"),
    "foreigner_2023": ("外国人永久居留证（2023版）", "Foreigner permanent residence card (2023)"),
    "expired": ("过期身份证", "An expired ID card"),
}
#: social-security cards that misbehave
SPECIAL_SSCARDS = {"error_card": ("读不出的社保卡", "A card that cannot be read"),
                   "pulled_card": ("读卡中途拔出", "Pulled out while being read"),
                   "pin_blocked": ("密码已锁定的社保卡", "A card whose PIN is blocked")}
PENSION = {"employee": ("职工养老", "employee pension"), "resident": ("居民养老", "resident pension"),
           "flexible": ("灵活就业", "flexible worker"), None: ("未参加养老保险", "no pension insurance")}
MEDICAL = {"employee": ("职工医保", "employee medical"), "resident": ("居民医保", "resident medical"),
           None: ("未参加医保", "no medical insurance")}
RETIRED = ("领取养老金", "receives a pension")
LOST = ("社保卡已挂失", "card reported lost")
RARE = ("姓名含生僻字", "rare character in the name")


def tags(r: DemoResident) -> tuple[str, str]:
    """What makes a demo resident worth trying, in a few words (zh, en)."""
    out = [PENSION[r.pension], MEDICAL[r.medical]]
    if r.retired:
        out.append(RETIRED)
    if r.card_status == "lost":
        out.append(LOST)
    if any(0x3400 <= ord(ch) < 0x4DC0 for ch in r.name):
        out.append(RARE)
    return " · ".join(z for z, _ in out), " · ".join(e for _, e in out)


@dataclass(frozen=True)
class Section:
    key: str
    zh: str
    en: str
    fill: Callable[[SimulatorPanel, Any], None]


def _cards(panel: SimulatorPanel, box: Any) -> None:
    hub = App.get_running_app().kiosk.hub
    idcard, sscard = hub.emulator("idcard"), hub.emulator("sscard")
    known = dict(idcard.cards()) if idcard is not None else {}
    for r in RESIDENTS:
        row = panel.row(r.name, *tags(r))
        if r.key in known:
            row.add_widget(panel.button("放身份证", "Place ID card", lambda k=r.key: idcard.place(k)))
        if sscard is not None:
            row.add_widget(panel.button("插社保卡", "Insert SS card", lambda k=r.key: sscard.insert(k)))
        box.add_widget(row)
    for key, (zh, en) in SPECIAL_CARDS.items():
        if key in known:
            row = panel.row(zh, en, "")
            row.add_widget(panel.button("放身份证", "Place ID card", lambda k=key: idcard.place(k)))
            box.add_widget(row)
    if sscard is not None:
        for key, (zh, en) in SPECIAL_SSCARDS.items():
            row = panel.row(zh, en, "")
            row.add_widget(panel.button("插社保卡", "Insert SS card", lambda k=key: sscard.insert(k)))
            box.add_widget(row)
    row = panel.row("取走证件", "Take cards away", "")
    if idcard is not None:
        row.add_widget(panel.button("取走身份证", "Take the ID card", idcard.remove))
    if sscard is not None:
        row.add_widget(panel.button("拔出社保卡", "Remove the SS card", sscard.remove))
    box.add_widget(row)


def _pad(panel: SimulatorPanel, box: Any) -> None:
    pad = App.get_running_app().kiosk.hub.emulator("ratingpad")
    if pad is None:
        return
    labels = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
    for n in (5, 4, 3, 2, 1):
        box.add_widget(panel.button(f"评价器按 {labels[n]}", f"Pad key {n}", lambda n=n: pad.press(n)))


def _payment(panel: SimulatorPanel, box: Any) -> None:
    if panel.platform is not None:
        box.add_widget(panel.button("模拟扫码支付", "Pay the order on screen", panel.pay_order))


def _printer(panel: SimulatorPanel, box: Any) -> None:
    printer = App.get_running_app().kiosk.hub.emulator("printer")
    if printer is None:
        return
    for zh, en, paper in (("打印机缺纸", "Printer out of paper", PaperStatus.OUT),
                          ("纸将用尽", "Paper running low", PaperStatus.LOW),
                          ("装入新纸", "New paper roll", PaperStatus.FULL)):
        box.add_widget(panel.button(zh, en, lambda p=paper: printer.set_paper(p)))


def _scanner(panel: SimulatorPanel, box: Any) -> None:
    from kiosk.sim.panel_scanner import fill

    fill(panel, box, App.get_running_app().kiosk.hub.emulator("scanner"))
def _camera(panel: SimulatorPanel, box: Any) -> None:
    """The document camera's pad: lay a sample document on it (it shakes, then settles), take it
    away, or keep a hand on it."""
    camera = App.get_running_app().kiosk.hub.emulator("camera")
    if camera is None:
        return
    for key, zh, en in camera.documents():
        box.add_widget(panel.button(f"放上：{zh}", f"Lay down: {en}", lambda k=key: camera.show(k)))
    box.add_widget(panel.button("拿走材料", "Take the page away", lambda: camera.show(None)))
    box.add_widget(panel.button("手一直按着（画面晃动）", "Keep a hand on it (shaking)", lambda: camera.hold(True)))
    box.add_widget(panel.button("松手", "Let go", lambda: camera.hold(False)))


SECTIONS: list[Section] = [
    Section("cards", "证件", "Cards", _cards),
    Section("pad", "评价器", "Rating pad", _pad),
    Section("payment", "手机支付", "Phone payment", _payment),
    Section("printer", "打印机", "Printer", _printer),
    Section("scanner", "扫码器", "Scanner", _scanner),
    Section("camera", "高拍仪", "Document camera", _camera),
]


class SimulatorPanel(ModalView):
    _anim_duration = NumericProperty(0)  # no fade, as the help panel (kiosk.widgets.help)
    #: what lies on each reader now, in words (names of fictional residents, never a number)
    status_zh = StringProperty("")
    status_en = StringProperty("")
    tab = StringProperty("cards")

    def __init__(self, platform=None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.platform = platform  # kiosk.sim.backend.ReferenceBackend, or None
        self._filled: set[str] = set()
        self._ticker = None

    # --- building ---------------------------------------------------------------------------

    def button(self, zh: str, en: str, action: Callable[[], Any]) -> BigButton:
        """A panel button that runs ``action`` on the worker (an emulator may block a moment)."""
        app = App.get_running_app()
        button = BigButton(zh=zh, en=en, kind="secondary")
        button.bind(on_release=lambda _b: app.worker.submit(action, lambda _r: self._show_status()))
        return button

    def row(self, title: str, note_zh: str, note_en: str) -> Any:
        from kiosk.sim.panel_widgets import PanelRow

        return PanelRow(title=title, note_zh=note_zh, note_en=note_en)

    def on_kv_post(self, base_widget) -> None:
        tabs = self.ids.tabs
        for section in SECTIONS:
            button = BigButton(zh=section.zh, en=section.en, kind="secondary")
            button.section = section.key
            button.bind(on_release=lambda b: self.show(b.section))
            tabs.add_widget(button)

    def on_pre_open(self) -> None:
        self.show(self.tab)
        self._show_status()
        self._ticker = Clock.schedule_interval(lambda _dt: self._show_status(), 0.5)

    def on_dismiss(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    def show(self, key: str) -> None:
        self.tab = key
        for button in self.ids.tabs.children:
            button.kind = "primary" if button.section == key else "secondary"
        section = next(s for s in SECTIONS if s.key == key)
        box = self.ids.body
        box.clear_widgets()
        content = getattr(self, f"_box_{key}", None)
        if content is None or key not in self._filled:
            from kiosk.sim.panel_widgets import PanelBox

            content = PanelBox()
            section.fill(self, content)
            setattr(self, f"_box_{key}", content)
            self._filled.add(key)
        box.add_widget(content)
        self.ids.scroll.scroll_y = 1

    # --- the status line --------------------------------------------------------------------

    def _show_status(self) -> None:
        hub = App.get_running_app().kiosk.hub
        idcard, sscard = hub.emulator("idcard"), hub.emulator("sscard")
        reader = _card_name(idcard.placed, SPECIAL_CARDS) if idcard is not None and idcard.placed else None
        slot = _card_name(getattr(sscard.card, "label", ""), SPECIAL_SSCARDS) if sscard is not None and sscard.card else None
        self.status_zh = f"读卡区：{reader[0] if reader else '空'}　　社保卡口：{slot[0] if slot else '空'}"
        self.status_en = f"ID card reader: {reader[1] if reader else 'empty'}    SS card slot: {slot[1] if slot else 'empty'}"
        camera = hub.emulator("camera")
        if camera is not None:
            page = next(((zh, en) for key, zh, en in camera.documents() if key == camera.document), ("空", "empty"))
            self.status_zh += f"　　高拍仪：{page[0]}"
            self.status_en += f"    Camera: {page[1]}"

    # --- actions ------------------------------------------------------------------------------

    def pay_order(self) -> None:
        """The resident's phone, simulated: the platform marks the current order paid."""
        payment = getattr(App.get_running_app().kiosk.journey.flow, "payment", None)
        order_no = getattr(payment, "order_no", "")
        if order_no and self.platform is not None:
            self.platform.mark_paid(order_no)


def _card_name(key: str, special: dict[str, tuple[str, str]]) -> tuple[str, str]:
    """Whose card (the fictional resident's name, in both lines), or what kind of card."""
    if key in BY_KEY:
        return BY_KEY[key].name, BY_KEY[key].name
    return special.get(key, (key, key))
