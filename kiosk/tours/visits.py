"""Tours about where one visit ends and the next begins, through the real window.

``card_left_behind``: residents leave their cards in the readers. The first leaves the
social-security card in its slot, the second is asked to take it away (it never identifies
them), identifies with an ID card and leaves that on the reader too; the third finds both,
lifts the ID card, places it again and is identified only then. Between them the farewell
screen asks for the cards, beeps, and gives up after ``take_card_timeout_s``.

``choices_reset``: English, 大字版 and a category chosen by one resident are gone for the next.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

from kiosk.tours.engine import Tour, Wait, leave, open_item, rate

#: how long a left card is watched for doing nothing: a card that identified someone would
#: have moved the journey on in well under this (a read takes about 0.2 s)
WATCH_S = 3.0


def _rate(tour: Tour) -> Iterator[Any]:
    tour.tap(tour.by_id("done_button"))
    yield tour.until_screen("rating")
    yield from rate(tour, "满意")


def _farewell_gives_up(tour: Tour, name: str) -> Iterator[Any]:
    """The resident walked off without the card: the reminder stays, beeps, then home."""
    kiosk = tour.app.kiosk
    yield tour.until_screen("farewell", 15)
    yield 0.5
    tour.shot(name)
    tour.facts[name] = {"cards": list(kiosk.journey.farewell.cards), "texts": tour.texts()}
    tour.tap(tour.app.root.ids.home_button)  # a passer-by tries to skip it: refused
    yield 0.5
    tour.facts[f"{name}_skip_refused"] = tour.screen_name() == "farewell"
    timeout = kiosk.config.session.take_card_timeout_s
    yield tour.until_screen("home", timeout + 15)


def _start_certificate(tour: Tour) -> Iterator[Any]:
    yield from open_item(tour, "contribution_certificate")
    tour.tap(tour.by_id("start_button"))
    yield tour.until_screen("identify")


def _left_card_ignored(tour: Tour, name: str) -> Iterator[Any]:
    """At identify with a card left from before: nothing happens but the request to lift it."""
    kiosk = tour.app.kiosk
    yield Wait(lambda: bool(tour.screen().lift_zh), "the request to take the old card away", 5)
    yield WATCH_S
    tour.shot(name)
    tour.facts[name] = {"state": kiosk.journey.state, "identified": kiosk.journey.session.identified,
                        "texts": tour.texts(), "lift": list(kiosk.journey.cards_to_lift())}


def card_left_behind(tour: Tour) -> Iterator[Any]:
    kiosk = tour.app.kiosk
    idcard, sscard = kiosk.hub.emulator("idcard"), kiosk.hub.emulator("sscard")
    yield tour.until_screen("home")
    yield Wait(lambda: kiosk.hub.unavailable_reason(["idcard", "sscard", "printer"]) is None, "the devices", 20)

    # 1. zhao_li checks her card's status with the social-security card and leaves it in
    item = next(i for i in kiosk.catalogue.items if i.flow == "card_status")
    yield from open_item(tour, item_id=item.id)
    tour.tap(tour.by_id("start_button"))
    yield tour.until_screen("identify")
    yield tour.run_off_thread(lambda: sscard.insert("zhao_li"), "inserting the social security card")
    yield tour.until_screen("card_service", 15)
    yield Wait(lambda: tour.screen().step in ("status", "lost"), "the card status", 15)
    tour.tap(tour.by_id("done_button"))
    yield tour.until_screen("result")
    yield from _rate(tour)
    yield from _farewell_gives_up(tour, "farewell-sscard")

    # 2. the next resident: the card in the slot is not theirs and identifies nobody
    yield from _start_certificate(tour)
    yield from _left_card_ignored(tour, "identify-sscard-left")
    yield tour.run_off_thread(lambda: idcard.place("wang_jianguo"), "placing an ID card")
    yield tour.until_screen("record", 15)
    yield Wait(lambda: tour.screen().loaded, "the record", 15)
    tour.shot("record-second")
    tour.facts["second_identified_by"] = kiosk.journey.session.identified_by
    tour.facts["second_texts"] = tour.texts()
    tour.tap(tour.by_id("print_button"))
    yield tour.until_screen("result", 20)
    yield from _rate(tour)
    yield from _farewell_gives_up(tour, "farewell-both")

    # 3. the third finds both cards; lifting the ID card and placing it again identifies
    yield from _start_certificate(tour)
    yield from _left_card_ignored(tour, "identify-both-left")
    yield tour.run_off_thread(idcard.remove, "lifting the ID card")
    yield Wait(lambda: kiosk.hub.device("idcard").current() is None, "the reader to see it go")
    yield 0.5
    tour.facts["after_lift"] = {"state": kiosk.journey.state, "lift": list(kiosk.journey.cards_to_lift())}
    yield tour.run_off_thread(lambda: idcard.place("wang_jianguo"), "placing it again")
    yield tour.until_screen("record", 15)
    yield Wait(lambda: tour.screen().loaded, "the record", 15)
    tour.facts["third_identified_by"] = kiosk.journey.session.identified_by
    tour.tap(tour.app.root.ids.home_button)  # done: 返回首页 with both cards still in
    yield from leave(tour, shot="farewell-third")
    tour.app.voice.wait_idle(10)
    tour.facts["beeps"] = sum(1 for s in tour.app.voice.spoken if s.text == "<beep>")
    tour.facts["spoken"] = [s.text for s in tour.app.voice.spoken if s.text != "<beep>"]


def choices_reset(tour: Tour) -> Iterator[Any]:
    """English, 大字版 and a category on; a visit that ends by timeout; all back to defaults."""
    kiosk = tour.app.kiosk
    app = tour.app
    yield tour.until_screen("home")
    yield 0.5
    tour.facts["default"] = {"lang": app.lang, "elder": app.theme.elder, "category": tour.screen().category}
    tour.tap(app.root.ids.lang_button)
    yield Wait(lambda: app.lang == "en", "English")
    tour.tap(app.root.ids.elder_button)
    yield Wait(lambda: app.theme.elder, "大字版")
    last = tour.screen().ids.categories.children[0]  # the last category
    tour.tap(last)
    yield Wait(lambda: tour.screen().category == last.category_key, "the last category")
    yield 0.3
    tour.shot("home-chosen")
    tour.facts["chosen"] = {"lang": app.lang, "elder": app.theme.elder, "category": tour.screen().category}
    # a visit that times out (the guide of the first item shown, then nobody)
    tile = tour.screen().ids.tiles.children[-1]
    tour.tap(tile)
    yield tour.until_screen("guide")
    idle = kiosk.config.session.idle_timeout_s
    yield Wait(lambda: tour.screen_name() in ("farewell", "home"), "the idle timeout", idle + 20)
    if tour.screen_name() == "farewell":
        tour.shot("farewell-timeout")
        tour.facts["farewell_texts"] = tour.texts()
    yield tour.until_screen("home", 30)
    yield 0.5
    tour.shot("home-after")
    tour.facts["after"] = {"lang": app.lang, "elder": app.theme.elder, "category": tour.screen().category}
    tour.facts["heap"] = {"full_after": gc.get_threshold()[2], "visits_collected": app.heap.visits}


def printer_known_down(tour: Tour) -> Iterator[Any]:
    """The printer runs out while a resident reads their record: the print button says so and
    cannot be pressed; the home tile of a printing item says so at once; a new roll brings
    both back."""
    from kiosk.hardware.base import PaperStatus

    kiosk = tour.app.kiosk
    idcard, printer = kiosk.hub.emulator("idcard"), kiosk.hub.emulator("printer")
    item = next(i for i in kiosk.catalogue.items if i.flow == "rights_record")
    yield tour.until_screen("home")
    yield Wait(lambda: kiosk.hub.unavailable_reason(["idcard", "printer"]) is None, "the devices", 20)
    yield from open_item(tour, item_id=item.id)
    tour.tap(tour.by_id("start_button"))
    yield tour.until_screen("identify")
    yield tour.run_off_thread(lambda: idcard.place("wang_jianguo"), "placing the ID card")
    yield tour.until_screen("query", 15)
    yield Wait(lambda: tour.screen().loaded and not tour.screen().busy, "the record", 15)
    button = tour.by_id("print_button")
    tour.facts["before"] = {"enabled": button.enabled, "zh": button.zh}
    printer.set_paper(PaperStatus.OUT)
    yield Wait(lambda: not tour.by_id("print_button").enabled, "the print button to say the paper is out", 15)
    yield 0.3
    tour.shot("query-paper-out")
    tour.facts["paper_out"] = {"enabled": button.enabled, "zh": button.zh, "en": button.en}
    tour.tap(button)  # a press does nothing: nothing is sent to a printer known to be empty
    yield 0.5
    tour.facts["after_press"] = {"screen": tour.screen_name(), "documents": len(printer.documents)}
    tour.tap(tour.app.root.ids.home_button)
    yield from leave(tour)
    cat = item.category
    tour.tap(tour.find(lambda w: getattr(w, "zh", None) == cat.label_zh and hasattr(w, "kind")))
    yield Wait(lambda: tour.screen().category == cat.value, f"category {cat.value}")
    yield 0.3
    tile = tour.find(lambda w: getattr(w, "item_id", "") == item.id)
    tour.shot("home-paper-out")
    tour.facts["tile"] = {"available": tile.available, "note": tile.note_zh}
    printer.set_paper(PaperStatus.FULL)
    yield Wait(lambda: kiosk.hub.unavailable_reason(["printer"]) is None, "the new roll", 15)
    tour.facts["back"] = kiosk.journey.unavailable_reason(item) is None


def account_typo(tour: Tour, unknown: str = "99999999") -> Iterator[Any]:
    """水费: an account number nobody has. The number stays to be corrected, the message does
    not move the keypad, and the next key clears it."""
    kiosk = tour.app.kiosk
    item = next(i for i in kiosk.catalogue.items if i.flow == "utility_payment")
    yield from open_item(tour, item_id=item.id)
    tour.tap(tour.by_id("start_button"))
    yield tour.until_screen("payment_account")
    yield 0.3
    keypad = tour.by_id("keypad")

    def key(k: str) -> None:
        tour.tap(tour.find(lambda w: getattr(w, "key", None) == k, keypad))

    for digit in unknown:
        key(digit)
        yield 0.12
    tour.facts["keypad_y_before"] = keypad.to_window(*keypad.pos)[1]
    key("ok")
    yield Wait(lambda: bool(tour.screen().message_zh) and not tour.screen().checking, "the answer", 15)
    yield 0.3
    tour.shot("account-unknown")
    tour.facts["after_error"] = {"value": keypad.value, "message": tour.screen().message_zh,
                                 "keypad_y": keypad.to_window(*keypad.pos)[1]}
    key("delete")
    yield 0.3
    tour.facts["after_key"] = {"value": keypad.value, "message": tour.screen().message_zh,
                               "keypad_y": keypad.to_window(*keypad.pos)[1]}
    tour.tap(tour.app.root.ids.home_button)
    yield tour.until_screen("home")


def _rss_mib() -> float:
    from kiosk.tours.soak import read_process

    return round(read_process()[0] / 1024, 1)


def built_ahead(tour: Tour) -> Iterator[Any]:
    """Left alone at home, the terminal builds every resident's screen ahead of its first visit,
    then settles its heap; a resident then goes through screens that were built while idle."""
    import time

    from kiosk.screens.navigator import SCREENS

    app = tour.app
    manager = app.navigator.manager
    yield tour.until_screen("home")
    tour.facts["at_start"] = sorted(manager.screen_names)
    # what the screens' area draws around them (Kivy's own ScreenManager rule: a stencil mask)
    tour.facts["around_screens"] = [type(i).__name__ for c in (manager.canvas.before, manager.canvas.after)
                                    for i in c.children]
    started = time.monotonic()
    yield Wait(lambda: app.first_frame_at is not None, "the first frame")
    at_start = app.heap.last  # the start-up settle
    tour.facts["rss_mib_before"] = _rss_mib()
    yield Wait(lambda: app.all_built, "every screen built ahead", 120)
    yield Wait(lambda: app.heap.last is not at_start and not app.heap.pending, "the idle pass after them", 30)
    tour.facts["built"] = sorted(manager.screen_names)
    tour.facts["expected"] = sorted(n for n in SCREENS if not n.startswith("admin"))
    tour.facts["built_after_s"] = round(time.monotonic() - started, 1)
    tour.facts["frozen"] = app.heap.last.frozen
    tour.facts["rss_mib_after"] = _rss_mib()
    # a visit through screens built while idle: they show the visit's own content
    yield from open_item(tour, "contribution_certificate")
    tour.facts["guide_title"] = tour.screen().title_zh
    tour.tap(tour.by_id("start_button"))
    yield tour.until_screen("identify")
    tour.shot("identify-built-ahead")
    tour.tap(app.root.ids.home_button)
    yield Wait(lambda: tour.screen_name() in ("home", "farewell"), "home")


TOURS = {"card_left_behind": card_left_behind, "choices_reset": choices_reset,
         "printer_known_down": printer_known_down, "account_typo": account_typo,
         "built_ahead": built_ahead}
