"""The screenshot tour: every screen in standard and elder mode, in Chinese and in English.

Each screen is reached through a real journey (touches on tiles, buttons and keypads, cards
placed on the emulated readers) and photographed twice: in Chinese, then after a tap on the
中文/English switch, which must leave the resident's session exactly as it was (recorded in
``facts["switch_kept_session"]``). Elder mode is switched on the home screen between the two
passes. Shots are named ``<screen>-<mode>-<lang>``; ``kiosk screenshots`` turns them into the
reviewed set, and each shot records the boxes of values that change from run to run (a
reference number, a payment QR code, a countdown) so the comparison can leave them out.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from typing import Any

from kiosk.tours.engine import Tour, Wait, leave, open_item, rate

SETTLE_S = 0.4  # a switch re-lays out the labels on the next frames
# a screenshot blocks the frame for a while; an animation started in the very next callback
# (a panel closing) then never ran in testing, so the clock gets a moment first
AFTER_SHOT_S = 0.3
DEVICES = ["idcard", "sscard", "printer", "ratingpad", "scanner"]
RESIDENT = "wang_jianguo"  # has contributions to print
CARD_RESIDENT = "feng_wei"  # has a social security card on record
#: widgets whose content differs between runs, per screen (ids in the screen's kv rule)
VOLATILE = {"result": ("ref_label", "done_button"),  # the number has the time; the button counts down
            "payment_qr": ("qr", "countdown", "order_line"), "rating": ("qr",),
            "payment_code": ("countdown",), "card_pin": ("pinpad",),  # the PIN keypad is shuffled each time
            "apply_materials": ("picture",), "progress": ("cases",)}


def _mode(tour: Tour) -> str:
    return "elder" if tour.app.theme.elder else "standard"


def _masks(tour: Tour) -> list[list[int]]:
    """Window-pixel boxes (left, top, right, bottom; origin top-left) of the volatile widgets."""
    from kivy.base import EventLoop

    height = EventLoop.window.height
    boxes = []
    for name in VOLATILE.get(tour.screen_name(), ()):
        widget = tour.screen().ids.get(name)
        if widget is None or widget.width <= 0 or widget.height <= 0:
            continue
        x0, y0 = widget.to_window(widget.x, widget.y)
        x1, y1 = widget.to_window(widget.right, widget.top)
        boxes.append([int(x0), int(height - y1), int(x1 + 0.999), int(height - y0 + 0.999)])
    return boxes


def drawn(tour: Tour, frames: int = 2) -> Wait:
    """Until the window has drawn ``frames`` more frames: a screenshot reads the last frame drawn,
    which on a loaded machine can still be one from before the last change."""
    from kivy.clock import Clock

    target = Clock.frames_displayed + frames
    return Wait(lambda: Clock.frames_displayed >= target, f"{frames} frames drawn")


def _shot(tour: Tour, name: str) -> None:
    from kivy.base import EventLoop

    from kiosk.tours.layout import audit

    tour.shot(name)
    tour.record[-1]["masks"] = _masks(tour)
    tour.record[-1]["lang"] = tour.app.lang
    tour.record[-1]["mode"] = _mode(tour)
    tour.record[-1]["layout"] = audit(EventLoop.window, elder=tour.app.theme.elder)


def _session(tour: Tour) -> tuple:
    """What a language switch must not touch."""
    journey = tour.app.kiosk.journey
    s = journey.session
    return (journey.state, tour.screen_name(), s.reference, s.item_id, s.identified, s.transaction_no,
            len(s.data), journey.outcome is not None)


def set_lang(tour: Tour, lang: str) -> Iterator[Any]:
    """Tap the header's 中文/English button until ``lang`` is active."""
    if tour.app.lang != lang:
        tour.tap(tour.app.root.ids.lang_button)
        yield Wait(lambda: tour.app.lang == lang, f"language {lang}")
        yield SETTLE_S


def capture(tour: Tour, screen: str) -> Iterator[Any]:
    """The current screen in Chinese, then in English, then back to Chinese."""
    yield from set_lang(tour, "zh")
    yield drawn(tour)
    _shot(tour, f"{screen}-{_mode(tour)}-zh")
    yield AFTER_SHOT_S
    before = _session(tour)
    yield from set_lang(tour, "en")
    yield drawn(tour)
    _shot(tour, f"{screen}-{_mode(tour)}-en")
    yield AFTER_SHOT_S
    tour.facts.setdefault("switch_kept_session", {})[f"{screen}-{_mode(tour)}"] = _session(tour) == before
    yield from set_lang(tour, "zh")


def capture_popup(tour: Tour, name: str, opener: str, closer: str = "关闭") -> Iterator[Any]:
    """A panel over the screen, opened by a footer button once per language (it covers the switch in the header)."""
    for lang in ("zh", "en"):
        yield from set_lang(tour, lang)
        tour.tap(tour.app.root.ids[opener])
        yield Wait(lambda: _panel_open(), f"the {name} panel to open")
        yield drawn(tour)
        _shot(tour, f"{name}-{_mode(tour)}-{lang}")
        yield AFTER_SHOT_S
        tour.tap(tour.button(closer))
        yield Wait(lambda: not _panel_shown(), f"the {name} panel to close")
    yield from set_lang(tour, "zh")


def _panel_shown() -> bool:
    from kivy.base import EventLoop
    from kivy.uix.modalview import ModalView

    return isinstance(EventLoop.window.children[0], ModalView)


def _panel_open() -> bool:
    """A panel is on top and its fade-in has finished (the overlay is at full strength)."""
    from kivy.base import EventLoop

    return _panel_shown() and EventLoop.window.children[0]._anim_alpha == 1.0


def _home(tour: Tour) -> Iterator[Any]:
    """Back to a settled home screen with every device up (so no tile says 'unavailable'), in
    the pass's mode (a visit's end puts 大字版 back to the terminal's default)."""
    if tour.screen_name() not in ("home", "farewell"):
        tour.tap(tour.app.root.ids.home_button)
        yield Wait(lambda: tour.screen_name() in ("home", "farewell"), "the visit to end")
    if tour.screen_name() == "farewell":
        yield from leave(tour)
    elder = bool(tour.options.get("elder_pass"))
    if tour.app.theme.elder != elder:
        tour.tap(tour.app.root.ids.elder_button)
        yield Wait(lambda: tour.app.theme.elder == elder, "the pass's mode")
        yield SETTLE_S
    hub = tour.app.kiosk.hub
    yield Wait(lambda: hub.unavailable_reason(DEVICES) is None, "every simulated device", 20)
    first = tour.screen().ids.categories.children[-1]  # the first category: a fresh page one
    tour.tap(first)
    yield 0.5


def _place_card(tour: Tour, resident: str) -> Wait:
    idcard = tour.app.kiosk.hub.emulator("idcard")
    return tour.run_off_thread(lambda: idcard.place(resident), "placing the ID card")


def _take_card(tour: Tour) -> Wait:
    idcard = tour.app.kiosk.hub.emulator("idcard")
    return tour.run_off_thread(idcard.remove, "taking the ID card away")


def _start(tour: Tour, flow: str) -> Iterator[Any]:
    yield from open_item(tour, flow)
    yield 0.3
    tour.tap(tour.by_id("start_button"))


def _screen_exists(name: str) -> bool:
    from kiosk.screens.navigator import SCREENS

    return name in SCREENS and importlib.util.find_spec(SCREENS[name].split(":")[0]) is not None


def _loaded(tour: Tour) -> Callable[[], bool]:
    return lambda: bool(getattr(tour.screen(), "loaded", True)) and not tour.app.busy


# --- the journeys -----------------------------------------------------------------------------


def certificate(tour: Tour) -> Iterator[Any]:
    """guide, identify, simulator panel, record, result, rating: 个人参保缴费证明."""
    yield from _start(tour, "contribution_certificate")
    yield tour.until_screen("identify")
    yield SETTLE_S
    yield from capture(tour, "identify")
    yield from capture_popup(tour, "simulator", "simulator_button")
    yield _place_card(tour, RESIDENT)
    yield tour.until_screen("record", 15)
    yield Wait(lambda: tour.screen().loaded, "the record", 15)
    yield SETTLE_S
    yield from capture(tour, "record")
    tour.tap(tour.by_id("print_button"))
    yield tour.until_screen("result", 20)
    yield SETTLE_S
    yield from capture(tour, "result")
    tour.tap(tour.by_id("done_button"))
    yield tour.until_screen("rating")
    yield SETTLE_S
    yield from capture(tour, "rating")
    yield from rate(tour, "满意")
    yield tour.until_screen("farewell")
    yield SETTLE_S
    yield from capture(tour, "farewell")  # the card still on the reader: take it
    yield from leave(tour)


def guide(tour: Tour) -> Iterator[Any]:
    yield from open_item(tour, "contribution_certificate")
    yield SETTLE_S
    yield from capture(tour, "guide")


def query(tour: Tour) -> Iterator[Any]:
    yield from _start(tour, "insurance_query")
    yield tour.until_screen("identify")
    yield _place_card(tour, RESIDENT)
    yield tour.until_screen("query", 15)
    yield Wait(_loaded(tour), "the query", 15)
    yield SETTLE_S
    yield from capture(tour, "query")
    yield from _home(tour)
    yield _take_card(tour)


def payment(tour: Tour) -> Iterator[Any]:
    """水费: account keypad, the bill to confirm, the QR code; then 取消."""
    from kiosk.sim.backend import bills
    from kiosk.sim.demo_data import BY_KEY

    account = next(a.account_no for a in bills.accounts_of(BY_KEY["zhang_xiuying"]) if a.utility == "water")
    yield from _start(tour, "utility_payment")
    yield tour.until_screen("payment_account")
    yield SETTLE_S
    yield from capture(tour, "payment_account")
    keypad = tour.by_id("keypad")
    for digit in account:
        tour.tap(tour.find(lambda w, d=digit: getattr(w, "key", None) == d, keypad))
        yield 0.12
    tour.tap(tour.find(lambda w: getattr(w, "key", None) == "ok", keypad))
    yield tour.until_screen("payment_confirm", 15)
    yield Wait(_loaded(tour), "the bill", 15)
    yield SETTLE_S
    yield from capture(tour, "payment_confirm")
    tour.tap(tour.by_id("confirm_button"))
    yield tour.until_screen("payment_qr", 15)
    yield Wait(lambda: tour.screen().ready, "the QR code", 15)
    yield SETTLE_S
    yield from capture(tour, "payment_qr")
    if _screen_exists("payment_code") and tour.screen().code_offered:
        tour.tap(tour.by_id("paycode_button"))
        yield tour.until_screen("payment_code", 15)
        yield SETTLE_S
        yield from capture(tour, "payment_code")
        tour.tap(tour.by_id("back_button"))
        yield tour.until_screen("payment_qr", 15)
        yield Wait(lambda: tour.screen().ready, "the QR code again", 15)
    tour.tap(tour.by_id("cancel_button"))
    yield Wait(lambda: tour.screen_name() in ("result", "home"), "the payment to be cancelled", 15)
    yield from _home(tour)


def card_service(tour: Tour) -> Iterator[Any]:
    yield from _start(tour, "card_status")
    yield tour.until_screen("identify")
    yield _place_card(tour, CARD_RESIDENT)
    yield tour.until_screen("card_service", 15)
    yield Wait(lambda: getattr(tour.screen(), "step", "") not in ("", "loading") and not tour.app.busy,
               "the card's state", 15)
    yield SETTLE_S
    yield from capture(tour, "card_service")
    yield from _home(tour)
    yield _take_card(tour)


def scan_identify(tour: Tour) -> Iterator[Any]:
    """扫码核验: the identify screen's scan step, then back to the cards and home."""
    yield from _start(tour, "insurance_query")
    yield tour.until_screen("identify")
    tour.tap(tour.by_id("scan_button"))
    yield tour.until_screen("scan_identify")
    yield SETTLE_S
    yield from capture(tour, "scan_identify")
    tour.tap(tour.by_id("card_button"))
    yield tour.until_screen("identify")
    yield from _home(tour)


def card_pin(tour: Tour) -> Iterator[Any]:
    """社会保障卡密码修改: the PIN keypad with the card inserted; then home, the card taken out."""
    slot = tour.app.kiosk.hub.emulator("sscard")
    yield from open_item(tour, item_id="sscard_password_change")
    yield 0.3
    tour.tap(tour.by_id("start_button"))
    yield tour.until_screen("identify")
    yield tour.run_off_thread(lambda: slot.insert(CARD_RESIDENT), "inserting the card")
    yield tour.until_screen("card_pin", 15)
    yield SETTLE_S
    yield from capture(tour, "card_pin")
    yield tour.run_off_thread(slot.remove, "taking the card out")
    yield Wait(lambda: tour.screen_name() in ("farewell", "home"), "the visit to end", 15)
    yield from _home(tour)


def simple(tour: Tour, flow: str, screen: str) -> Iterator[Any]:
    """Items whose first screen needs no identity: 帮办代办, 政务服务地图."""
    yield from _start(tour, flow)
    yield tour.until_screen(screen)
    yield Wait(_loaded(tour), screen, 15)
    yield SETTLE_S
    yield from capture(tour, screen)
    yield from _home(tour)


def technician(tour: Tour) -> Iterator[Any]:
    """The PIN screen through the hidden gesture, then 暂停服务 as residents see it, then reopen."""
    from kivy.base import EventLoop

    from kiosk.tours.admin import admin_pin, hold, type_pin

    kiosk = tour.app.kiosk
    win = EventLoop.window
    yield hold(tour, (20, win.height - 20), 3.3)
    yield tour.until_screen("admin_pin")
    yield SETTLE_S
    yield from capture(tour, "admin_pin")
    yield from type_pin(tour, admin_pin(tour))
    tour.tap(tour.button("确定"))
    yield tour.until_screen("admin", 15)
    yield Wait(lambda: kiosk.journey.maintenance, "the terminal to go out of service")
    yield Wait(lambda: not tour.screen().working, "the admin screen", 15)
    tour.tap(tour.button("服务开关"))
    yield 0.5
    # signing in closed the terminal for the visit only: open it, then close it on purpose
    tour.tap(tour.button("恢复服务"))
    yield Wait(lambda: not kiosk.journey.maintenance and not tour.screen().working, "the terminal to reopen", 15)
    yield 0.5
    tour.tap(tour.button("暂停服务"))
    yield Wait(lambda: tour.screen().stays_closed and not tour.screen().working, "the terminal to stay closed", 15)
    yield 0.3
    tour.tap(tour.by_id("exit_button"))
    yield tour.until_screen("closed", 15)
    yield SETTLE_S
    yield from capture(tour, "closed")
    # open again the way a technician does, or the next pass finds the terminal closed
    yield hold(tour, (20, win.height - 20), 3.3)
    yield tour.until_screen("admin_pin")
    yield from type_pin(tour, admin_pin(tour))
    tour.tap(tour.button("确定"))
    yield tour.until_screen("admin", 15)
    yield Wait(lambda: tour.screen().stays_closed and not tour.screen().working, "the reopen button", 15)
    tour.tap(tour.by_id("reopen_exit_button"))
    yield tour.until_screen("home", 15)
    yield Wait(lambda: not kiosk.journey.maintenance, "the terminal to reopen")


def one_pass(tour: Tour) -> Iterator[Any]:
    yield from _home(tour)
    yield from capture(tour, "home")
    yield from capture_popup(tour, "help", "help_button")
    yield from guide(tour)
    yield from _home(tour)
    yield from certificate(tour)
    yield from _home(tour)
    if _screen_exists("query"):
        yield from query(tour)
    if _screen_exists("payment_account"):
        yield from payment(tour)
    if _screen_exists("card_service"):
        yield from card_service(tour)
    if _screen_exists("scan_identify"):
        yield from scan_identify(tour)
    if _screen_exists("card_pin"):
        yield from card_pin(tour)
    if _screen_exists("help_request"):
        yield from simple(tour, "help_request", "help_request")
    if _screen_exists("service_map"):
        yield from simple(tour, "service_map", "service_map")
    if _screen_exists("apply_form"):
        from kiosk.tours.applications import screenshots as application_screens

        yield from application_screens(tour)
        yield from _home(tour)
    if _screen_exists("admin_pin"):
        yield from technician(tour)


MODES = ("standard", "elder")


def screenshots(tour: Tour) -> Iterator[Any]:
    """Every screen, standard mode then elder mode (``options["modes"]``: one of them, or
    both), each in Chinese and English."""
    yield tour.until_screen("home")
    yield 0.5
    for mode in tour.options.get("modes") or MODES:
        tour.options["elder_pass"] = mode == "elder"
        yield from one_pass(tour)
    tour.app.voice.wait_idle(10)
    tour.facts["spoken"] = [[s.text, s.lang] for s in tour.app.voice.spoken]

TOURS = {"screenshots": screenshots}
