"""Tours through the real window for card services, guides, the service map, 帮办代办 and 好差评.

Each tour taps its way from the home screen like a resident would (category, tile, 开始办理,
the keypad's keys one by one) and leaves screenshots, the visible text of every step and a
few facts for the UI tests. Registered in ``kiosk.tours.named.TOURS``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kiosk.tours.engine import Tour, Wait, leave, open_item, rate, tap_placed


def key_in(tour: Tour, keypad, digits: str) -> Iterator[Any]:
    """Tap the keypad's keys one by one, then 确定."""
    for digit in digits:
        tour.tap(tour.find(lambda w, d=digit: getattr(w, "key", None) == d, root=keypad))
        yield 0.12
    tour.tap(tour.find(lambda w: getattr(w, "key", None) == "ok", root=keypad))
    yield 0.2


def rate_and_go_home(tour: Tour, level: str = "满意") -> Iterator[Any]:
    """From the result screen: 完成，去评价, a level, 提交评价, back home."""
    tour.tap(tour.by_id("done_button"))
    yield tour.until_screen("rating")
    yield from rate(tour, level)
    yield from leave(tour)


def finish_facts(tour: Tour) -> Iterator[Any]:
    kiosk = tour.app.kiosk
    yield tour.run_off_thread(lambda: kiosk.delivery.flush(10.0), "delivering the outbox", 20)
    tour.facts["outbox_depth_after"] = kiosk.outbox.depth()
    tour.facts["session_holds_personal_data"] = kiosk.journey.session.holds_personal_data


def card_loss(tour: Tour, resident: str = "feng_wei", wrong_phone: str = "13900000000") -> Iterator[Any]:
    """社会保障卡临时挂失: ID card, a wrong phone number, the right one, receipt, rating."""
    from kiosk.sim.demo_data import BY_KEY

    kiosk = tour.app.kiosk
    item = next(i for i in kiosk.catalogue.items if i.flow == "card_loss")
    yield from open_item(tour, item_id=item.id)
    tour.shot("guide")
    tour.tap(tour.by_id("start_button"))
    yield tour.until_screen("identify")
    idcard = kiosk.hub.emulator("idcard")
    yield tour.run_off_thread(lambda: idcard.place(resident), "placing the ID card")
    yield tour.until_screen("card_service", 15)
    yield Wait(lambda: tour.screen().step in ("phone", "lost"), "the card status to load", 15)
    yield 0.2
    if tour.screen().step == "lost":
        # reported on an earlier run against the same backend data: said plainly, nothing keyed
        tour.shot("card-already-lost")
        tour.tap(tour.by_id("done_button"))
    else:
        tour.shot("card-phone")
        keypad = tour.by_id("keypad")
        yield from key_in(tour, keypad, wrong_phone)
        yield Wait(lambda: tour.screen().step == "phone" and bool(tour.screen().message_zh), "the mismatch message", 15)
        yield 0.2
        tour.shot("card-wrong-phone")
        yield from key_in(tour, keypad, BY_KEY[resident].phone)
    yield tour.until_screen("result", 20)
    yield 0.2
    tour.shot("result")
    outcome = kiosk.journey.outcome
    tour.facts["outcome_ok"] = outcome.ok if outcome else None
    tour.facts["transaction_no"] = kiosk.journey.session.transaction_no
    printer = kiosk.hub.emulator("printer")
    if printer is not None and printer.documents:
        printer.render_png(tour.out_dir / "receipt.png")
        tour.facts["receipt_png"] = "receipt.png"
    yield from rate_and_go_home(tour)
    yield tour.run_off_thread(lambda: idcard.remove(), "taking the card away")
    tour.shot("home-after")
    yield from finish_facts(tour)


def card_status(tour: Tour, resident: str = "zhao_li") -> Iterator[Any]:
    """社会保障卡状态查询 for a card reported lost: the masked number, the status, what next."""
    kiosk = tour.app.kiosk
    item = next(i for i in kiosk.catalogue.items if i.flow == "card_status")
    yield from open_item(tour, item_id=item.id)
    tour.tap(tour.by_id("start_button"))
    yield tour.until_screen("identify")
    idcard = kiosk.hub.emulator("idcard")
    yield tour.run_off_thread(lambda: idcard.place(resident), "placing the ID card")
    yield tour.until_screen("card_service", 15)
    yield Wait(lambda: tour.screen().step == "status", "the card status to load", 15)
    yield 0.2
    tour.shot("card-status")
    tour.tap(tour.by_id("done_button"))
    yield tour.until_screen("result")
    yield 0.2
    tour.shot("result")
    yield from rate_and_go_home(tour)
    yield tour.run_off_thread(lambda: idcard.remove(), "taking the card away")
    yield from finish_facts(tour)


def guide_only(tour: Tour, item_id: str = "sscard_password_reset") -> Iterator[Any]:
    """A guide-only item (社会保障卡密码重置): its short notice, the full one, then back home."""
    yield from open_item(tour, item_id=item_id)
    yield 0.3
    tour.shot("guide")
    tour.tap(tour.by_id("full_button"))
    yield Wait(lambda: tour.screen().full, "the full notice")
    yield 0.3
    tour.shot("guide-full")
    tour.screen().ids.scroll.scroll_y = 0  # the end of the notice: where and whom to ask
    yield 0.3
    tour.shot("guide-end")
    start = tour.by_id("start_button")
    tour.facts["start_button"] = {"zh": start.zh, "enabled": start.enabled}
    tour.tap(tour.by_id("home_button"))
    yield tour.until_screen("home")


def service_map(tour: Tour, category: str = "缴费") -> Iterator[Any]:
    """政务服务地图: every point, then one category, then done and rated."""
    yield from open_item(tour, item_id="service_map")
    tour.tap(tour.by_id("start_button"))
    yield tour.until_screen("service_map")
    yield 0.3
    tour.shot("map-all")
    tour.facts["points_all"] = tour.screen().count
    yield from tap_placed(tour, lambda w: getattr(w, "zh", None) == category and hasattr(w, "key"), category)
    yield Wait(lambda: tour.screen().category != "", f"category {category}")
    yield 0.3
    tour.shot("map-category")
    tour.facts["points_in_category"] = tour.screen().count
    tour.tap(tour.by_id("done_button"))
    yield tour.until_screen("result")
    yield from rate_and_go_home(tour)
    yield from finish_facts(tour)


def help_request(tour: Tour, matter_zh: str = "社会保障卡密码重置", phone: str = "13853801299") -> Iterator[Any]:
    """帮办代办: pick 社保, pick a matter, a number that is no mobile, the right one."""
    yield from open_item(tour, item_id="help_request")
    tour.tap(tour.by_id("start_button"))
    yield tour.until_screen("help_request")
    yield 0.3
    tour.shot("help-pick")
    yield from tap_placed(tour, lambda w: getattr(w, "key", None) == "social_security", "the 社保 category")
    while not any(getattr(w, "zh", None) == matter_zh for w in tour.screen().ids.matters.children):
        if tour.screen().page >= tour.screen().pages - 1:
            raise AssertionError(f"no {matter_zh} in the pick-list")
        tour.tap(tour.screen().ids.pager.ids.next_page)
        yield 0.3
    yield from tap_placed(tour, lambda w: getattr(w, "zh", None) == matter_zh and hasattr(w, "trigger_action"),
                          matter_zh)
    yield Wait(lambda: tour.screen().step == "phone", "the phone step")
    yield 0.2
    tour.shot("help-phone")
    keypad = tour.by_id("keypad")
    yield from key_in(tour, keypad, "12345678901")
    yield Wait(lambda: bool(tour.screen().message_zh), "the bad-number message")
    yield 0.2
    tour.shot("help-bad-number")
    yield from key_in(tour, keypad, phone)
    yield tour.until_screen("result")
    yield 0.2
    tour.shot("result")
    tour.facts["transaction_no"] = tour.app.kiosk.journey.session.transaction_no
    yield from rate_and_go_home(tour)
    yield from finish_facts(tour)


def rating_ui(tour: Tour) -> Iterator[Any]:
    """好差评 in 大字版: 不满意 cannot be sent without a reason; then a pad key ends the session."""
    kiosk = tour.app.kiosk
    yield tour.until_screen("home")
    tour.tap(tour.by_id("elder_button"))  # the largest layout: it must still fit
    yield Wait(lambda: tour.app.theme.elder, "elder mode")
    yield from open_item(tour, item_id="service_map")
    tour.tap(tour.by_id("start_button"))
    yield tour.until_screen("service_map")
    tour.facts["transaction_no"] = kiosk.journey.session.transaction_no
    tour.tap(tour.by_id("done_button"))
    yield tour.until_screen("result")
    tour.tap(tour.by_id("done_button"))
    yield tour.until_screen("rating")
    yield 0.3
    tour.shot("rating")
    tour.facts["online_url"] = tour.screen().online_url
    tour.facts["level_sizes"] = sorted({(round(b.width), round(b.height)) for b in tour.screen().ids.levels.children})
    yield from tap_placed(tour, lambda w: getattr(w, "zh", None) == "不满意" and hasattr(w, "level"), "不满意")
    tour.tap(tour.by_id("submit_button"))  # no reason chosen: nothing may happen
    yield 0.6
    tour.shot("rating-no-reason")
    tour.facts["after_submit_without_reason"] = tour.screen_name()
    tour.facts["can_submit_without_reason"] = tour.screen().can_submit
    yield from tap_placed(tour, lambda w: getattr(w, "zh", None) == "办理时间太长" and hasattr(w, "code"), "a reason")
    tour.shot("rating-reason")
    tour.facts["can_submit_with_reason"] = tour.screen().can_submit
    ids = tour.screen().ids
    # nothing overlaps: the reasons end above the QR row, the levels start below the top
    tour.facts["fits"] = {"reasons_above_qr": ids.reasons.y >= ids.qr.top - 1,
                          "title_on_screen": ids.title.top <= tour.screen().top + 1,
                          "elder": tour.app.theme.elder}
    pad = kiosk.hub.emulator("ratingpad")
    yield Wait(lambda: pad.lit, "the rating pad to light up", 10)
    yield tour.run_off_thread(lambda: pad.press(5), "a key on the rating pad")
    yield from leave(tour)
    tour.shot("home-after")
    tour.facts["pad_lit_after"] = pad.lit
    yield from finish_facts(tour)
