"""The 24-hour 自助申办 tours: apply with a scanned material and a signature; follow the progress.

``application``: 80周岁以上老年人高龄津贴申领 for 朱德华 (82): the ID card fills the form, the rest is
picked (a region level by level, a bank, the living arrangement) and keyed (the household, the
phone); the ID card's two sides are laid on the emulated document camera and photographed, the
household register is taken from the platform's 电子证照, the bank card photographed; the
commitment confirmed and a signature drawn with real touch moves; submitted; the result shows the
办件编号 and the 受理回执 comes out of the printer. ``tour.json`` gets the application as the
platform received it (its form with the applicant masked, each file with its size and digest).

``application_progress``: the same, then 办件进度查询 by ID card (受理), the platform moved three
steps on (已寄出 with the tracking number), and 刘䶮's applications handed in at a window (one
posted, one sent back for correction with its reason).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

from kivy.base import EventLoop

from kiosk.tours.engine import Tour, TourFailed, TourTouch, Wait, leave, open_item, rate, tap_placed

RESIDENT = "zhu_dehua"
ITEM = "longevity_allowance"
#: the residence, picked level by level: 山东省 泰安市 宁阳县 鹤山镇 北街村
RESIDENCE = ("370000", "370900", "370921", "370921108", "370921108001")
#: a signature: strokes in the pad's units (0..1 across and up)
SIGNATURE = (((0.12, 0.45), (0.18, 0.7), (0.24, 0.42), (0.3, 0.66), (0.36, 0.4)),
             ((0.42, 0.62), (0.5, 0.62), (0.46, 0.75), (0.46, 0.35)),
             ((0.58, 0.5), (0.66, 0.7), (0.72, 0.38), (0.8, 0.6), (0.88, 0.45)))


def _platform(tour: Tour, path: str, body: dict | None = None) -> Any:
    """The simulated platform's /sim controls, on loopback (what a reviewer would curl)."""
    url = tour.app.kiosk.config.backend.url.rstrip("/") + path
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def _choose(tour: Tour, code: str) -> Iterator[Any]:
    yield from tap_placed(tour, lambda w: getattr(w, "code", None) == code and hasattr(w, "trigger_action"), code)


def _row(tour: Tour, key: str) -> Iterator[Any]:
    """Tap a line of the form, scrolled into view first (its place is the list's, not the window's)."""
    def row():
        return next(w for w in tour.screen().ids.rows.children if getattr(w, "key", None) == key)

    yield Wait(lambda: row().width > 0 and row().height > 0, f"the {key} line")
    tour.screen().ids.scroll.scroll_to(row(), animate=False)
    yield 0.3
    tour.tap(row())
    yield 0.3


def _key_in(tour: Tour, digits: str) -> Iterator[Any]:
    keypad = tour.by_id("keypad")
    for digit in digits:
        tour.tap(tour.find(lambda w, d=digit: getattr(w, "key", None) == d, keypad))
        yield 0.1
    tour.tap(tour.find(lambda w: getattr(w, "key", None) == "ok", keypad))
    yield 0.3


def _listed(tour: Tour) -> Wait:
    return Wait(lambda: tour.screen_name() == "apply_form" and tour.screen().mode == "list", "the form's list")


def fill_form(tour: Tour, phone: str) -> Iterator[Any]:
    """Every line the card does not give: a region, picks, numbers, the phone, the delivery."""
    yield from _row(tour, "residence")
    yield Wait(lambda: tour.screen().mode == "pick", "the region list")
    yield 0.3
    tour.shot("form-region")
    for code in RESIDENCE:
        yield from _choose(tour, code)
    yield _listed(tour)
    yield from _row(tour, "living")
    yield from _choose(tour, "2")
    yield _listed(tour)
    yield from _row(tour, "household_size")
    yield Wait(lambda: tour.screen().mode == "keypad", "the keypad")
    yield from _key_in(tour, "25")  # more than the form allows: it says so where it was keyed
    yield Wait(lambda: bool(tour.screen().message_zh), "the household size to be refused")
    tour.facts["household_size_refused"] = tour.screen().message_zh
    tour.shot("form-number-refused")
    yield from _key_in(tour, "2")
    yield _listed(tour)
    yield from _row(tour, "bank")
    yield from _choose(tour, "ABC")
    yield _listed(tour)
    yield from _row(tour, "phone")
    yield Wait(lambda: tour.screen().mode == "keypad", "the keypad")
    yield from _key_in(tour, phone)
    yield _listed(tour)
    yield from _row(tour, "delivery")
    yield from _choose(tour, "mail_card")
    yield _listed(tour)


def draw(tour: Tour, widget, strokes) -> Iterator[Any]:
    """Write on ``widget`` with a finger: for each stroke a touch down, moves, and up."""
    win = EventLoop.window
    for stroke in strokes:
        points = [widget.to_window(widget.x + x * widget.width, widget.y + y * widget.height) for x, y in stroke]
        touch = TourTouch(*points[0])
        EventLoop.post_dispatch_input("begin", touch)
        yield 0.05
        for x, y in points[1:]:
            touch.move({"x": x / (win.width - 1.0), "y": y / (win.height - 1.0)})
            EventLoop.post_dispatch_input("update", touch)
            yield 0.04
        EventLoop.post_dispatch_input("end", touch)
        yield 0.05


def lay_page(tour: Tour, document: str) -> Wait:
    """Lay a sample document on the emulated camera; the wait ends as a resident's would before
    tapping 拍摄: once the picture on screen shows the page found and keeping still (on a loaded
    machine the camera's reader can be a second behind the pad)."""
    camera = tour.app.kiosk.hub.device("camera")
    shown = camera.preview()
    after = shown.seq if shown is not None else -1
    tour.app.kiosk.hub.emulator("camera").show(document)
    return Wait(lambda: (p := camera.preview()) is not None and p.seq > after and bool(p.outline) and p.still,
                f"the {document} page outlined and still on screen", 20)


def capture(tour: Tour, document: str, count: int) -> Iterator[Any]:
    """Lay a sample document on the emulated camera, tap 拍摄这一页, wait for the page."""
    material = tour.screen().current
    yield lay_page(tour, document)
    tour.tap(tour.by_id("capture_button"))
    yield Wait(lambda: not tour.screen().capturing, f"the {document} page to be taken", 20)
    if tour.screen().message_level == "error":
        raise TourFailed(f"capture of {document}: {tour.screen().message_zh}")
    taken = len(tour.app.kiosk.journey.flow.materials[material].pages)
    if taken != count:
        raise TourFailed(f"{material}: {taken} page(s) taken, expected {count}")
    tour.facts.setdefault("pages_taken", []).append([material, count])


def apply(tour: Tour, resident: str = RESIDENT, shots: bool = True) -> Iterator[Any]:
    """From home to the 受理回执: the application tour's steps (see the module's docstring)."""
    from kiosk.sim.demo_data import BY_KEY

    kiosk = tour.app.kiosk
    yield tour.until_screen("home")
    yield Wait(lambda: kiosk.hub.unavailable_reason(["camera", "printer", "idcard"]) is None, "the devices", 20)
    yield from open_item(tour, item_id=ITEM)
    tour.shot("guide")
    tour.tap(tour.by_id("start_button"))
    yield tour.until_screen("identify")
    yield tour.run_off_thread(lambda: kiosk.hub.emulator("idcard").place(resident), "placing the ID card")
    yield tour.until_screen("apply_form", 15)
    yield _listed(tour)
    yield 0.3
    tour.shot("form")
    yield from fill_form(tour, BY_KEY[resident].phone)
    yield 0.3
    tour.shot("form-filled")
    tour.facts["form_complete"] = tour.screen().complete
    tour.tap(tour.by_id("next_button"))
    yield tour.until_screen("apply_materials")
    yield Wait(lambda: tour.screen().ids.picture.has_picture, "the camera's picture", 15)
    yield from capture(tour, "id_card_front", 1)
    yield from capture(tour, "id_card_back", 2)
    yield Wait(lambda: tour.screen().current == "hukou", "the household register to come next")
    yield 0.3
    tour.shot("materials-id-card")
    tour.tap(tour.by_id("licence_button"))
    yield Wait(lambda: tour.screen().current == "bank_card", "the bank card to come next")
    yield from capture(tour, "bank_card", 1)
    yield Wait(lambda: tour.screen().all_done, "every material")
    yield Wait(lambda: tour.screen().ids.picture.still, "a still picture")
    yield 0.3
    tour.shot("materials-done")
    tour.tap(tour.by_id("next_button"))
    yield tour.until_screen("apply_sign")
    yield 0.3
    tour.shot("sign")
    tour.tap(tour.by_id("commit_button"))
    yield Wait(lambda: tour.screen().committed, "the commitment confirmed")
    yield from draw(tour, tour.by_id("pad"), SIGNATURE)
    yield Wait(lambda: tour.screen().ids.pad.has_ink, "the signature")
    yield 0.3
    tour.shot("signed")
    tour.tap(tour.by_id("submit_button"))
    yield tour.until_screen("result", 40)
    yield 0.5
    tour.shot("result")
    outcome = kiosk.journey.outcome
    tour.facts["outcome"] = {"ok": outcome.ok, "title": outcome.title_zh, "reference": outcome.reference,
                             "message": outcome.message_zh}
    tour.facts["application_no"] = outcome.reference
    printer = kiosk.hub.emulator("printer")
    yield tour.run_off_thread(lambda: printer.wait_for_documents(1), "the 受理回执 on paper")
    printer.render_png(tour.out_dir / "receipt.png")
    tour.facts["receipt_png"] = "receipt.png"
    tour.facts["receipt_text"] = printer.documents[-1].text
    tour.facts["receipt_qr"] = printer.documents[-1].qr_payloads
    tour.tap(tour.by_id("done_button"))
    yield tour.until_screen("rating")
    yield from rate(tour, "满意")
    yield from leave(tour, shot="farewell" if shots else None)
    tour.facts["session_holds_personal_data"] = kiosk.journey.session.holds_personal_data
    box: dict[str, Any] = {}
    yield tour.run_off_thread(lambda: box.setdefault("received", _platform(tour, "/sim/applications")),
                              "what the platform received")
    received = [a for a in box["received"]["items"] if a["application_no"] == tour.facts["application_no"]]
    tour.facts["received"] = received
    tour.facts["chunk_writes"] = box["received"]["chunk_writes"]
    tour.facts["vault_after"] = sorted(str(p.relative_to(kiosk.config.data_dir))
                                       for p in (kiosk.config.data_dir / "vault").rglob("*") if p.is_file())


def application(tour: Tour) -> Iterator[Any]:
    yield from apply(tour)


def progress(tour: Tour, resident: str, shot: str) -> Iterator[Any]:
    """办件进度查询 by ID card: what the screen lists for ``resident``."""
    kiosk = tour.app.kiosk
    yield from open_item(tour, item_id="application_progress")
    tour.tap(tour.by_id("start_button"))
    yield tour.until_screen("identify")
    yield tour.run_off_thread(lambda: kiosk.hub.emulator("idcard").place(resident), "placing the ID card")
    yield tour.until_screen("progress", 15)
    yield Wait(lambda: tour.screen().loaded, "the progress", 15)
    yield 0.5
    tour.shot(shot)
    flow = kiosk.journey.flow
    tour.facts.setdefault("progress", {})[shot] = [
        {"number": c.number, "item": c.item_name, "status": c.status_zh, "steps": [s.name_zh for s in c.steps],
         "corrections": list(c.corrections), "tracking_no": c.tracking_no} for c in flow.cases]
    tour.tap(tour.by_id("done_button"))
    yield tour.until_screen("result")
    tour.tap(tour.by_id("done_button"))
    yield tour.until_screen("rating")
    yield from rate(tour, "满意")
    yield from leave(tour)


def application_progress(tour: Tour) -> Iterator[Any]:
    yield from apply(tour, shots=False)
    yield from progress(tour, RESIDENT, "progress-accepted")
    number = tour.facts["application_no"]
    box: dict[str, Any] = {}
    yield tour.run_off_thread(lambda: box.setdefault("moved", _platform(tour, "/sim/applications/advance",
                                                                        {"application_no": number, "steps": 3})),
                              "the platform to move the application on")
    yield from progress(tour, RESIDENT, "progress-posted")
    yield from progress(tour, "liu_yan", "progress-window")


TOURS = {"application": application, "application_progress": application_progress}


def screenshots(tour: Tour) -> Iterator[Any]:
    """The application screens and the progress screen for the screenshot set (``kiosk
    screenshots``), in the pass's mode, each in Chinese and English. The form is filled and the
    materials completed through the flow here (the ``application`` tour taps through them)."""
    from kiosk.tours.i18n import SETTLE_S, _home, capture, drawn

    kiosk = tour.app.kiosk
    camera = kiosk.hub.emulator("camera")
    yield Wait(lambda: kiosk.hub.unavailable_reason(["camera"]) is None, "the camera", 20)
    yield from open_item(tour, item_id=ITEM)
    tour.tap(tour.by_id("start_button"))
    yield tour.until_screen("identify")
    yield tour.run_off_thread(lambda: kiosk.hub.emulator("idcard").place(RESIDENT), "placing the ID card")
    yield tour.until_screen("apply_form", 15)
    yield _listed(tour)
    yield SETTLE_S
    yield from capture(tour, "apply_form")
    flow = kiosk.journey.flow
    form = flow.form
    form.set_region("residence", RESIDENCE[-1])
    form.set_pick("living", "2")
    form.set_number("household_size", "2")
    form.set_pick("bank", "ABC")
    form.set_phone("phone", "13853801213")
    form.set_delivery("mail_card")
    tour.screen().show_list()
    yield 0.3
    tour.tap(tour.by_id("next_button"))
    yield tour.until_screen("apply_materials")
    yield lay_page(tour, "id_card_front")
    yield Wait(lambda: tour.screen().ids.picture.has_picture, "the camera's picture", 15)
    tour.tap(tour.by_id("capture_button"))
    yield Wait(lambda: not tour.screen().capturing, "the page to be taken", 20)
    yield Wait(lambda: tour.screen().ids.picture.still, "a still picture")
    yield SETTLE_S
    yield from capture(tour, "apply_materials")
    yield lay_page(tour, "id_card_back")
    yield tour.run_off_thread(lambda: flow.capture("id_card"), "the back of the card", 20)
    flow.use_licence("hukou")
    flow.hand_in_later("bank_card")
    camera.show(None)
    tour.app.navigator.go("apply_sign")
    yield tour.until_screen("apply_sign")
    tour.tap(tour.by_id("commit_button"))
    yield Wait(lambda: tour.screen().committed, "the commitment confirmed")
    yield from draw(tour, tour.by_id("pad"), SIGNATURE)
    yield drawn(tour)
    yield from capture(tour, "apply_sign")
    yield from _home(tour)  # the visit ends: back home in the pass's mode
    yield from open_item(tour, item_id="application_progress")
    tour.tap(tour.by_id("start_button"))
    yield tour.until_screen("identify")
    yield tour.run_off_thread(lambda: kiosk.hub.emulator("idcard").place("liu_yan"), "placing the ID card")
    yield tour.until_screen("progress", 15)
    yield Wait(lambda: tour.screen().loaded, "the progress", 15)
    yield SETTLE_S
    yield from capture(tour, "progress")
