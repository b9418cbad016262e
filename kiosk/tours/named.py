"""The named tours: what ``kiosk demo --headless`` and the UI tests walk through."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kivy.base import EventLoop

from kiosk.tours import admin as admin_tours
from kiosk.tours import applications as application_tours
from kiosk.tours import assist as assist_tours
from kiosk.tours import certificates as certificate_tours
from kiosk.tours import i18n as i18n_tours
from kiosk.tours import lockdown, visits
from kiosk.tours import payments as payment_tours
from kiosk.tours import queries as query_tours
from kiosk.tours import scan as scan_tours
from kiosk.tours.engine import Tour, Wait, leave, open_item, rate


def certificate_slice(tour: Tour, resident: str = "wang_jianguo", level: str = "满意") -> Iterator[Any]:
    """个人参保缴费证明查询打印, end to end: identify, query, print, rate."""
    kiosk = tour.app.kiosk
    yield tour.until_screen("home")
    yield 0.5
    tour.shot("home")
    yield from open_item(tour, "contribution_certificate")
    tour.shot("guide")
    tour.tap(tour.by_id("start_button"))
    yield tour.until_screen("identify")
    tour.shot("identify")
    # the reviewer's way: open the simulator panel and place the resident's card from it
    from kiosk.sim.demo_data import BY_KEY

    tour.tap(tour.by_id("simulator_button"))
    yield Wait(lambda: any(getattr(w, "title", None) == BY_KEY[resident].name
                           for r in EventLoop.window.children for w in r.walk()), "the panel's residents")
    yield 0.4
    tour.shot("simulator")
    row = tour.find(lambda w: getattr(w, "title", None) == BY_KEY[resident].name)
    tour.tap(tour.find(lambda w: getattr(w, "zh", None) == "放身份证", root=row))
    yield 0.3
    tour.facts["panel_status"] = tour.find(lambda w: hasattr(w, "status_zh")).status_zh
    tour.tap(tour.button("关闭"))
    yield tour.until_screen("record")
    yield Wait(lambda: tour.screen().loaded, "the record to load", 15)
    yield 0.2
    tour.shot("record")
    tour.tap(tour.by_id("print_button"))
    yield tour.until_screen("result", 20)
    yield 0.2
    tour.shot("result")
    tour.facts["outcome_ok"] = kiosk.journey.outcome.ok if kiosk.journey.outcome else None
    tour.facts["transaction_no"] = kiosk.journey.session.transaction_no
    printer = kiosk.hub.emulator("printer")
    if printer is not None and printer.documents:
        printer.render_png(tour.out_dir / "receipt.png")
        tour.facts["receipt_png"] = "receipt.png"
    tour.tap(tour.by_id("done_button"))
    yield tour.until_screen("rating")
    yield 0.2
    tour.shot("rating")
    yield from rate(tour, level)
    yield from leave(tour, shot="farewell")
    tour.shot("home-after")
    yield tour.run_off_thread(lambda: kiosk.delivery.flush(10.0), "delivering the outbox", 20)
    tour.facts["outbox_depth_after"] = kiosk.outbox.depth()
    tour.app.voice.wait_idle(10)
    tour.facts["spoken"] = [s.text for s in tour.app.voice.spoken]
    tour.facts["voice_files"] = [str(s.wav) for s in tour.app.voice.spoken if s.wav]
    tour.facts["session_holds_personal_data"] = kiosk.journey.session.holds_personal_data


def paper_out_retry(tour: Tour, resident: str = "li_guilan") -> Iterator[Any]:
    """The printer runs out of paper at 打印: the result says so and offers 重新打印; the
    technician's refill, one tap, and the certificate prints once."""
    from kiosk.hardware.base import PaperStatus

    kiosk = tour.app.kiosk
    idcard, printer = kiosk.hub.emulator("idcard"), kiosk.hub.emulator("printer")
    yield from open_item(tour, "contribution_certificate")
    tour.tap(tour.by_id("start_button"))
    yield tour.until_screen("identify")
    yield tour.run_off_thread(lambda: idcard.place(resident), "placing the ID card")
    yield tour.until_screen("record")
    yield Wait(lambda: tour.screen().loaded, "the record to load", 15)
    printer.run_out_after(64)  # the roll ends a few lines into the certificate
    yield 0.2
    tour.tap(tour.by_id("print_button"))
    yield tour.until_screen("result", 20)
    yield Wait(lambda: tour.screen().can_retry, "重新打印 to be offered")
    yield 0.3
    tour.shot("result-paper-out")
    tour.facts["first_ok"] = kiosk.journey.outcome.ok
    tour.facts["documents_before_refill"] = len(printer.documents)
    printer.set_paper(PaperStatus.FULL)
    tour.tap(tour.by_id("retry_button"))
    yield Wait(lambda: kiosk.journey.outcome is not None and kiosk.journey.outcome.ok, "the retried print", 20)
    yield 0.3
    tour.shot("result-retried")
    tour.facts["retry_still_offered"] = tour.screen().can_retry
    yield tour.run_off_thread(lambda: printer.wait_for_documents(1), "the certificate on paper")
    tour.tap(tour.by_id("done_button"))
    yield tour.until_screen("rating")
    yield from rate(tour, "满意")
    yield from leave(tour)
    tour.facts["documents"] = len(printer.documents)


def measure_sizes(tour: Tour) -> dict[str, float]:
    """Rendered sizes on the current screen, in dp: smallest button, body and heading text."""
    from kivy.metrics import dp
    from kivy.uix.label import Label

    from kiosk.tours.engine import _visible
    from kiosk.widgets.common import BigButton, BiLabel

    unit = dp(1)
    shown = [w for w in tour.app.root.walk(restrict=True) if _visible(w)]
    buttons = [w for w in shown if isinstance(w, BigButton) and w.height > 0 and w.width > 0]
    bodies, headings = [], []
    for w in shown:
        if isinstance(w, BiLabel) and w.zh and w.role != "small":
            main = next(c for c in reversed(w.children) if isinstance(c, Label))  # the Chinese line
            (headings if w.role in ("heading", "title") else bodies).append(main.font_size / unit)
    return {
        "min_button_height_dp": min(b.height for b in buttons) / unit,
        "min_button_width_dp": min(b.width for b in buttons) / unit,
        "min_body_text_dp": min(bodies),
        "min_heading_text_dp": min(headings),
        "tiles_on_page": len(tour.screen().ids.tiles.children) if tour.screen_name() == "home" else 0,
    }


def elder_sizes(tour: Tour) -> Iterator[Any]:
    """大字版: measure the rendered home and guide screens in both modes."""
    yield tour.until_screen("home")
    yield 0.5
    tour.facts["standard_home"] = measure_sizes(tour)
    tour.shot("home-standard")
    tour.tap(tour.by_id("elder_button"))
    yield Wait(lambda: tour.app.theme.elder, "elder mode")
    yield 0.5
    tour.facts["elder_home"] = measure_sizes(tour)
    tour.shot("home-elder")
    yield from open_item(tour, "contribution_certificate")
    yield 0.3
    tour.facts["elder_guide"] = measure_sizes(tour)
    tour.shot("guide-elder")
    tour.facts["elder_mode_kept"] = tour.app.theme.elder
    # what a switch costs the window after it has answered: frames drawn in the next 1.5 s
    # (each one a whole window rasterised; a fading scroll bar once made ~40)
    frames = tour.facts["frames_after"] = {}
    for name, button in (("english", "lang_button"), ("chinese", "lang_button"), ("standard", "elder_button"),
                         ("help", "help_button")):
        before = tour.frames_drawn
        tour.tap(tour.app.root.ids[button])
        yield 1.5
        frames[name] = tour.frames_drawn - before
    tour.tap(tour.button("关闭"))


def keyed_card_status(tour: Tour, resident: str = "zhao_li") -> Iterator[Any]:
    """社会保障卡状态查询 with no card at hand: a wrong ID number first, then the right one."""
    from kiosk.sim.demo_data import BY_KEY
    from kiosk.tours.assist import key_in, rate_and_go_home

    kiosk = tour.app.kiosk
    item = next(i for i in kiosk.catalogue.items if i.flow == "card_status")
    yield from open_item(tour, item_id=item.id)
    tour.tap(tour.by_id("start_button"))
    yield tour.until_screen("identify")
    tour.tap(tour.by_id("keyed_button"))
    yield Wait(lambda: tour.screen().keypad_shown, "the keypad")
    yield 0.3
    tour.shot("identify-keypad")
    keypad = tour.screen().ids.keyed_box.children[0]
    number = BY_KEY[resident].id_number
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    yield from key_in(tour, keypad, wrong)
    yield Wait(lambda: bool(tour.app.message_zh), "the error message")
    tour.facts["wrong_number_message"] = tour.app.message_zh
    tour.facts["screen_after_wrong_number"] = tour.screen_name()
    tour.shot("identify-wrong-number")
    yield from key_in(tour, keypad, number)
    yield tour.until_screen("card_service", 15)
    yield Wait(lambda: tour.screen().step == "status", "the card status to load", 15)
    yield 0.2
    tour.shot("card-status-keyed")
    tour.facts["identified_by"] = kiosk.journey.session.identified_by
    tour.tap(tour.by_id("done_button"))
    yield tour.until_screen("result")
    yield from rate_and_go_home(tour)


def demo(tour: Tour) -> Iterator[Any]:
    """The reviewers' tour: one item of each kind, then what they printed, into the out folder.

    A certificate with its rating (the whole slice), a payment, queries with a printed
    certificate, a card service and a guide-only item; the receipts as the printer emulator
    rendered them and the certificates' PDFs and previews are copied next to the screenshots."""
    import shutil

    from kiosk.tours.assist import card_status, guide_only

    yield from certificate_slice(tour)
    yield from payment_tours.water_bill(tour)
    yield from query_tours.queries(tour)
    yield from card_status(tour)
    yield from guide_only(tour)
    data = tour.app.kiosk.config.data_dir
    kept = []
    for folder, pattern in (("receipts", "*.png"), ("certificates", "*.pdf"), ("certificates", "*.png")):
        for path in sorted((data / folder).glob(pattern)):
            target = tour.out_dir / folder / path.name
            target.parent.mkdir(exist_ok=True)
            shutil.copy2(path, target)
            kept.append(f"{folder}/{path.name}")
    tour.facts["artifacts"] = kept


TOURS = {"demo": demo, "certificate_slice": certificate_slice, "elder_sizes": elder_sizes,
         "keyed_card_status": keyed_card_status, "paper_out_retry": paper_out_retry}
TOURS["card_loss"] = assist_tours.card_loss
TOURS["card_status"] = assist_tours.card_status
TOURS["guide_only"] = assist_tours.guide_only
TOURS["service_map"] = assist_tours.service_map
TOURS["help_request"] = assist_tours.help_request
TOURS["rating_ui"] = assist_tours.rating_ui
TOURS["water_bill"] = payment_tours.water_bill
TOURS["contribution_payment"] = payment_tours.contribution
TOURS["payment_doubt"] = payment_tours.payment_doubt_then_cancel
TOURS["queries"] = query_tours.queries
TOURS["certificate_range"] = certificate_tours.certificate_range
TOURS.update(admin_tours.TOURS)  # "admin", "admin_idle"
TOURS.update(i18n_tours.TOURS)  # "screenshots"
TOURS.update(visits.TOURS)  # "card_left_behind", "choices_reset"
TOURS.update(lockdown.TOURS)  # "lockdown"
TOURS.update(scan_tours.TOURS)  # "scan_identify", "pay_by_code", "card_pin_change"
TOURS.update(application_tours.TOURS)  # "application", "application_progress"
