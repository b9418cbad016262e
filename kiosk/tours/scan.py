"""Tours of the QR code scanner and the card's PIN through the real window: 扫码核验,
付款码支付 and 社会保障卡密码修改.

The resident's phone is played by the simulated platform (``POST /sim/tokens`` issues a fresh
电子社保卡 code, ``kiosk.sim.backend.paycode`` holds the demo payment codes) and the scanner
emulator, which sends the code down its pty to the real driver. Everything else is real
touches on the real window.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kivy.base import EventLoop

from kiosk.tours.engine import Tour, Wait, leave, open_item, rate
from kiosk.tours.i18n import drawn
from kiosk.tours.payments import _sim, _type_digits


def _scan(tour: Tour, code: str | bytes, what: str) -> Wait:
    scanner = tour.app.kiosk.hub.emulator("scanner")
    return tour.run_off_thread(lambda: scanner.scan(code), what)


def _token(tour: Tour, resident: str, **spec: Any) -> str:
    return _sim(tour, "POST", "/sim/tokens", {"resident": resident, **spec})["code"]


def _codes_read(tour: Tour) -> int:
    return tour.app.kiosk.hub.device("scanner").stats["codes"]


def scan_identify(tour: Tour, resident: str = "zhang_xiuying") -> Iterator[Any]:
    """参保信息查询 with the 电子社保卡 code: a code shown too early does nothing, an expired one
    says refresh it, a fresh one identifies; a certificate says it needs the card itself."""
    from kiosk.sim.demo_data import BY_KEY

    kiosk = tour.app.kiosk
    yield tour.until_screen("home")
    yield Wait(lambda: kiosk.hub.unavailable_reason(["scanner", "idcard"]) is None, "the scanner", 20)
    # a certificate: the card itself is needed, and the identify screen says so
    yield from open_item(tour, "contribution_certificate")
    tour.tap(tour.by_id("start_button"))
    yield tour.until_screen("identify")
    yield 0.3
    tour.shot("identify-card-only")
    tour.facts["certificate_scan_offered"] = tour.screen().scan_offered
    tour.tap(tour.app.root.ids.home_button)
    yield tour.until_screen("home", 10)
    # 参保信息查询: the scan is offered beside the cards
    yield from open_item(tour, "insurance_query")
    tour.tap(tour.by_id("start_button"))
    yield tour.until_screen("identify")
    yield 0.3
    tour.shot("identify")
    tour.facts["scan_offered"] = tour.screen().scan_offered
    read = _codes_read(tour)
    box: dict[str, Any] = {}
    yield tour.run_off_thread(lambda: box.update(early=_token(tour, "wang_jianguo")), "an early code")
    yield _scan(tour, box["early"], "a code shown before 扫码核验")
    yield Wait(lambda: _codes_read(tour) > read, "the early code to be read")
    yield drawn(tour, 3)  # the event reaches the journey on the next frame: a few frames later it has
    tour.facts["early_code"] = {"state": kiosk.journey.state, "screen": tour.screen_name(),
                                "identified": kiosk.journey.session.identified}
    tour.tap(tour.by_id("scan_button"))
    yield tour.until_screen("scan_identify")
    yield 0.5
    tour.shot("scan")
    yield tour.run_off_thread(lambda: box.update(expired=_token(tour, resident, age_s=61)), "an expired code")
    yield _scan(tour, box["expired"], "an expired code")
    yield Wait(lambda: bool(tour.screen().error_zh), "the refusal", 15)
    yield 0.3
    tour.shot("scan-expired")
    tour.facts["expired_message"] = tour.screen().error_zh
    # the reviewer's way: the simulator panel's 扫码器 tab, the resident's 出示电子社保卡
    tour.tap(tour.by_id("simulator_button"))
    yield Wait(lambda: any(getattr(w, "section", None) == "scanner" for r in EventLoop.window.children
                           for w in r.walk()), "the panel's tabs")
    yield 0.4
    tour.tap(tour.find(lambda w: getattr(w, "section", None) == "scanner"))
    yield Wait(lambda: any(getattr(w, "title", None) == BY_KEY[resident].name for r in EventLoop.window.children
                           for w in r.walk()), "the scanner tab's residents")
    yield 0.4
    tour.shot("simulator-scanner")
    sent = len(kiosk.hub.emulator("scanner").sent)
    row = tour.find(lambda w: getattr(w, "title", None) == BY_KEY[resident].name)
    tour.tap(tour.find(lambda w: getattr(w, "zh", None) == "出示电子社保卡", root=row))
    yield Wait(lambda: len(kiosk.hub.emulator("scanner").sent) > sent, "the code to be shown")
    tour.tap(tour.button("关闭"))
    yield tour.until_screen("query", 15)
    yield Wait(lambda: getattr(tour.screen(), "loaded", True) and not tour.app.busy, "the query", 15)
    yield 0.3
    tour.shot("query")
    session = kiosk.journey.session
    tour.facts["identified_by"] = session.identified_by
    tour.facts["identity_is_resident"] = session.identity is not None and \
        session.identity.id_number == BY_KEY[resident].id_number
    tour.facts["code_on_screen"] = any("ESSC1." in t for t in tour.texts())
    tour.tap(tour.by_id("finish_button"))
    yield tour.until_screen("result", 15)
    tour.tap(tour.by_id("done_button"))
    yield tour.until_screen("rating", 15)
    yield from rate(tour, "满意")
    yield Wait(lambda: tour.screen_name() in ("farewell", "home"), "the end of the visit", 15)
    if tour.screen_name() == "farewell":
        yield from leave(tour)
    tour.facts["session_holds_personal_data"] = kiosk.journey.session.holds_personal_data


def pay_by_code(tour: Tour, resident: str = "zhang_xiuying") -> Iterator[Any]:
    """水费缴纳 with the phone's payment code: insufficient funds first, then a code whose payer
    enters the password; paid, one receipt, rated."""
    from kiosk.sim.backend import bills, paycode
    from kiosk.sim.demo_data import BY_KEY

    kiosk = tour.app.kiosk
    codes = list(paycode.DEMO_CODES)
    poor, pending = codes[3], codes[1]
    account = next(a.account_no for a in bills.accounts_of(BY_KEY[resident]) if a.utility == "water")
    yield tour.until_screen("home")
    yield Wait(lambda: kiosk.hub.unavailable_reason(["scanner", "printer"]) is None, "the scanner", 20)
    yield from open_item(tour, "utility_payment")
    tour.tap(tour.by_id("start_button"))
    yield tour.until_screen("payment_account")
    yield from _type_digits(tour, account)
    tour.tap(tour.find(lambda w: getattr(w, "key", None) == "ok", tour.by_id("keypad")))
    yield tour.until_screen("payment_confirm", 15)
    tour.tap(tour.by_id("confirm_button"))
    yield tour.until_screen("payment_qr", 15)
    yield Wait(lambda: tour.screen().ready, "the QR code", 15)
    yield 0.3
    tour.shot("qr")
    flow = kiosk.journey.flow
    order_no = flow.payment.order_no
    tour.facts.update(order_no=order_no, transaction_no=flow.txn)
    tour.tap(tour.by_id("paycode_button"))
    yield tour.until_screen("payment_code")
    yield 0.5
    tour.shot("paycode")
    yield _scan(tour, poor, "a payment code without the money")
    yield Wait(lambda: bool(tour.screen().error_zh), "the refusal", 15)
    yield 0.3
    tour.shot("paycode-refused")
    tour.facts["refused_message"] = tour.screen().error_zh
    yield _scan(tour, pending, "a payment code whose payer enters the password")
    yield Wait(lambda: tour.screen_name() != "payment_code" or
               getattr(tour.screen(), "stage_zh", "").startswith("请在手机上确认"), "the payer to be asked", 15)
    yield 0.3
    tour.shot("paycode-confirming")
    yield tour.until_screen("result", 40)
    yield 0.3
    tour.shot("result")
    outcome = kiosk.journey.outcome
    tour.facts.update(outcome_ok=outcome.ok if outcome else None, outcome_title=outcome.title_zh if outcome else "")
    printer = kiosk.hub.emulator("printer")
    if printer is not None and printer.wait_for_documents(1, timeout=5):
        tour.facts["receipts"] = len(printer.documents)
        tour.facts["receipt_text"] = printer.documents[-1].text
        printer.render_png(tour.out_dir / "receipt.png")
    tour.tap(tour.by_id("done_button"))
    yield tour.until_screen("rating")
    yield from rate(tour, "满意")
    yield from leave(tour)
    box: dict[str, Any] = {}
    yield tour.run_off_thread(lambda: box.update(order=kiosk.backend.order_status(order_no),
                                                 code=kiosk.backend.code_payment_status(order_no)), "the order")
    tour.facts["order_status"] = box["order"]["status"]
    tour.facts["code_status"] = box["code"]["status"]
    yield tour.run_off_thread(lambda: kiosk.delivery.flush(10.0), "delivering the outbox", 20)
    tour.facts["journal"] = [r["status"] for r in kiosk.journal.recent() if r["transaction_no"] == flow.txn]
    tour.facts["codes_in_journal"] = any(c in str(r) for r in kiosk.journal.recent() for c in codes)
    tour.shot("home-after")



def _pin(tour: Tour, digits: str) -> Iterator[Any]:
    """Type ``digits`` on the shuffled PIN keypad (each key found where it is now), then 确定."""
    pad = tour.by_id("pinpad")
    for digit in digits:
        tour.tap(tour.find(lambda w, d=digit: getattr(w, "key", None) == d, pad))
        yield 0.12
    tour.tap(tour.find(lambda w: getattr(w, "key", None) == "ok", pad))
    yield 0.2


def card_pin_change(tour: Tour, resident: str = "wang_jianguo", new_pin: str = "582039") -> Iterator[Any]:
    """社会保障卡密码修改: a wrong old PIN (tries left), the right one, a weak new PIN, two that
    differ, then the change on the card; and a card whose PIN is blocked, sent to a counter."""
    from kiosk.sim.demo_data import BY_KEY
    from kiosk.sim.sscard_card import DEMO_PIN

    kiosk = tour.app.kiosk
    slot = kiosk.hub.emulator("sscard")
    item = kiosk.catalogue.by_id("sscard_password_change")
    yield tour.until_screen("home")
    yield Wait(lambda: kiosk.hub.unavailable_reason(["sscard"]) is None, "the card reader", 20)
    yield from open_item(tour, item_id=item.id)
    tour.tap(tour.by_id("start_button"))
    yield tour.until_screen("identify")
    tour.facts["scan_offered"] = tour.screen().scan_offered
    tour.facts["identify_texts"] = tour.texts()
    yield tour.run_off_thread(lambda: slot.insert(resident), "inserting the card")
    yield tour.until_screen("card_pin", 15)
    yield 0.3
    tour.shot("pin-old")
    layouts = [tour.by_id("pinpad").layout]
    yield from _pin(tour, "999999")
    yield Wait(lambda: bool(tour.screen().message_zh) and tour.screen().step == "old", "the wrong PIN", 15)
    yield 0.2
    tour.shot("pin-wrong")
    tour.facts["wrong_message"] = tour.screen().message_zh
    layouts.append(tour.by_id("pinpad").layout)
    yield from _pin(tour, DEMO_PIN)
    yield Wait(lambda: tour.screen().step == "new", "the old PIN checked", 15)
    yield 0.2
    tour.shot("pin-new")
    layouts.append(tour.by_id("pinpad").layout)
    yield from _pin(tour, "111111")
    yield Wait(lambda: bool(tour.screen().message_zh), "the weak PIN refused")
    tour.facts["weak_message"] = tour.screen().message_zh
    birth = BY_KEY[resident].id_number[8:14]
    yield from _pin(tour, birth)
    yield Wait(lambda: "出生日期" in tour.screen().message_zh, "the birth date refused")
    yield 0.2
    tour.shot("pin-weak")
    tour.facts["birth_message"] = tour.screen().message_zh
    yield from _pin(tour, new_pin)
    yield Wait(lambda: tour.screen().step == "again", "the new PIN taken")
    layouts.append(tour.by_id("pinpad").layout)
    yield from _pin(tour, new_pin[::-1])
    yield Wait(lambda: tour.screen().step == "new" and bool(tour.screen().message_zh), "the mismatch")
    tour.facts["mismatch_message"] = tour.screen().message_zh
    yield from _pin(tour, new_pin)
    yield Wait(lambda: tour.screen().step == "again", "the new PIN taken again")
    yield 0.2
    tour.shot("pin-again")
    yield from _pin(tour, new_pin)
    yield tour.until_screen("result", 15)
    yield 0.3
    tour.shot("result")
    outcome = kiosk.journey.outcome
    tour.facts.update(outcome_ok=outcome.ok if outcome else None, outcome_title=outcome.title_zh if outcome else "")
    tour.facts["layouts"] = layouts
    tour.facts["card_pin"] = {"matches_new": slot.card.pin_state.pin == new_pin, "changes": slot.card.pin_state.changes,
                              "tries_left": slot.card.pin_state.tries_left}
    txn = kiosk.journey.session.transaction_no
    tour.tap(tour.by_id("done_button"))
    yield tour.until_screen("rating")
    yield from rate(tour, "满意")
    yield from leave(tour)
    tour.facts["journal"] = [r["status"] for r in kiosk.journal.recent() if r["transaction_no"] == txn]
    # a card whose PIN is blocked: the resident is sent to a counter
    yield from open_item(tour, item_id=item.id)
    tour.tap(tour.by_id("start_button"))
    yield tour.until_screen("identify")
    yield tour.run_off_thread(lambda: slot.insert("pin_blocked"), "inserting a blocked card")
    yield tour.until_screen("card_pin", 15)
    yield from _pin(tour, DEMO_PIN)
    yield tour.until_screen("result", 15)
    yield 0.3
    tour.shot("result-blocked")
    outcome = kiosk.journey.outcome
    tour.facts["blocked"] = {"ok": outcome.ok, "title": outcome.title_zh, "message": outcome.message_zh}
    tour.tap(tour.by_id("done_button"))
    yield tour.until_screen("rating")
    yield from rate(tour, "满意")
    yield from leave(tour)
    tour.facts["session_holds_personal_data"] = kiosk.journey.session.holds_personal_data


TOURS = {"scan_identify": scan_identify, "pay_by_code": pay_by_code, "card_pin_change": card_pin_change}
