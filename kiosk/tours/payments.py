"""Tours of the 缴费 items through the real window: a water bill and a pension contribution.

The resident's phone is played by the reference backend's simulator endpoint: once the QR
code is up, the tour asks ``POST /sim/orders/{order_no}/pay`` on the (loopback) backend the
demo started, exactly what a reviewer would do with curl. Everything else is real touches.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

from kiosk.tours.engine import Tour, Wait, leave, open_item, rate


def _pay_at_backend(tour: Tour, order_no: str) -> dict:
    """The resident scans and pays: the simulated payment channel tells the backend."""
    return _sim(tour, "POST", f"/sim/orders/{order_no}/pay", {})


def _drawn_box(tour: Tour, image: Any) -> list[float]:
    """Where an Image's texture is drawn, in screenshot pixels: [left, top, width, height]."""
    from kivy.core.window import Window

    w, h = image.norm_image_size
    cx, cy = image.to_window(*image.center)
    return [cx - w / 2, Window.height - (cy + h / 2), w, h]


def _type_digits(tour: Tour, digits: str) -> Iterator[Any]:
    keys = tour.by_id("keypad")
    for digit in digits:
        tour.tap(tour.find(lambda w, d=digit: getattr(w, "key", None) == d, keys))
        yield 0.12


def _pay_and_finish(tour: Tour, level: str, measure: Any = None) -> Iterator[Any]:
    """From the confirm screen: 确认缴费, the QR code, the phone pays, receipt, rating."""
    kiosk = tour.app.kiosk
    tour.tap(tour.by_id("confirm_button"))
    yield tour.until_screen("payment_qr")
    yield Wait(lambda: tour.screen().ready, "the QR code", 15)
    yield 0.3
    tour.shot("qr")
    if measure is not None:
        tour.facts["qr_sizes"] = measure(tour)
        from kivy.metrics import dp

        tour.facts["qr_side_dp"] = tour.screen().ids.qr.norm_image_size[0] / dp(1)  # as drawn
    flow = kiosk.journey.flow
    order_no = flow.payment.order_no
    tour.facts["order_no"] = order_no
    tour.facts["transaction_no"] = flow.txn
    tour.facts["qr_payload"] = tour.screen().payload
    tour.facts["seconds_left_shown"] = tour.screen().seconds_left
    tour.facts["qr_box_px"] = _drawn_box(tour, tour.screen().ids.qr)
    yield tour.run_off_thread(lambda: _pay_at_backend(tour, order_no), "the phone to pay")
    yield tour.until_screen("result", 20)
    yield 0.2
    tour.shot("result")
    outcome = kiosk.journey.outcome
    tour.facts["outcome_ok"] = outcome.ok if outcome else None
    tour.facts["outcome_title"] = outcome.title_zh if outcome else ""
    printer = kiosk.hub.emulator("printer")
    if printer is not None and printer.wait_for_documents(1, timeout=5):
        tour.facts["receipt_text"] = printer.documents[-1].text
        tour.facts["receipt_qr"] = printer.documents[-1].qr_payloads
        printer.render_png(tour.out_dir / "receipt.png")
        tour.facts["receipt_png"] = "receipt.png"
    tour.tap(tour.by_id("done_button"))
    yield tour.until_screen("rating")
    yield from rate(tour, level)
    yield from leave(tour)
    box: dict[str, Any] = {}
    yield tour.run_off_thread(lambda: box.update(order=kiosk.backend.order_status(order_no)), "the order's state")
    tour.facts["order_status"] = box.get("order", {}).get("status")
    yield tour.run_off_thread(lambda: kiosk.delivery.flush(10.0), "delivering the outbox", 20)
    tour.facts["journal"] = [
        {k: r[k] for k in ("transaction_no", "status", "amount_fen", "order_no", "masked_name", "masked_id")}
        for r in kiosk.journal.recent() if r["transaction_no"] == flow.txn
    ]
    tour.facts["outbox_depth_after"] = kiosk.outbox.depth()
    tour.facts["session_holds_personal_data"] = kiosk.journey.session.holds_personal_data
    tour.shot("home-after")


def water_bill(tour: Tour, account_no: str = "", level: str = "满意") -> Iterator[Any]:
    """水费缴纳, end to end: account number on the keypad, bill, QR code, paid, receipt, rating."""
    from kiosk.sim.backend import bills
    from kiosk.sim.demo_data import BY_KEY

    account_no = account_no or next(
        a.account_no for a in bills.accounts_of(BY_KEY["zhang_xiuying"]) if a.utility == "water"
    )
    tour.facts["account_no"] = account_no
    yield tour.until_screen("home")
    yield 0.5
    yield from open_item(tour, "utility_payment")
    tour.shot("guide")
    tour.tap(tour.by_id("start_button"))
    yield tour.until_screen("payment_account")
    yield 0.2
    tour.shot("account")
    yield from _type_digits(tour, "123")
    tour.tap(tour.find(lambda w: getattr(w, "key", None) == "ok", tour.by_id("keypad")))
    yield 0.2  # too short: 确定 stays disabled, nothing is asked
    tour.facts["short_number_kept_on_keypad"] = tour.screen_name() == "payment_account"
    for _ in range(3):
        tour.tap(tour.find(lambda w: getattr(w, "key", None) == "delete", tour.by_id("keypad")))
        yield 0.12
    yield from _type_digits(tour, account_no)
    tour.facts["typed"] = tour.by_id("keypad").value == account_no
    tour.tap(tour.find(lambda w: getattr(w, "key", None) == "ok", tour.by_id("keypad")))
    yield tour.until_screen("payment_confirm", 15)
    yield 0.3
    tour.shot("confirm")
    yield from _pay_and_finish(tour, level)


def contribution(tour: Tour, resident: str = "liu_yan", level: str = "非常满意", elder: bool = True) -> Iterator[Any]:
    """城乡居民养老保险费缴纳 in 大字版: ID card, pick a grade, QR code, paid, receipt, rating."""
    from kiosk.tours.named import measure_sizes

    kiosk = tour.app.kiosk
    yield tour.until_screen("home")
    yield 0.5
    if elder:  # 大字版: those who pay resident pensions at a terminal are often elderly
        tour.tap(tour.by_id("elder_button"))
        yield Wait(lambda: tour.app.theme.elder, "elder mode")
        yield 0.3
    yield from open_item(tour, "resident_pension_payment")
    tour.shot("guide")
    tour.tap(tour.by_id("start_button"))
    yield tour.until_screen("identify")
    idcard = kiosk.hub.emulator("idcard")
    yield tour.run_off_thread(lambda: idcard.place(resident), "placing the ID card")
    yield tour.until_screen("payment_confirm", 15)
    yield Wait(lambda: tour.screen().loaded and len(tour.screen().ids.grades.children) > 0, "the grades", 15)
    yield 0.3
    tour.shot("confirm")
    grades = kiosk.journey.flow.choice.grades
    chosen = grades[min(2, len(grades) - 1)]
    tour.facts["grade"] = {"label_zh": chosen.label_zh, "amount_fen": chosen.amount_fen}
    tour.tap(tour.find(lambda w: getattr(w, "grade_id", None) == chosen.grade_id))
    yield Wait(lambda: tour.screen().selected_grade == chosen.grade_id, "the grade to be picked")
    yield 0.2
    tour.shot("confirm-picked")
    tour.facts["confirm_sizes"] = measure_sizes(tour)
    yield from _pay_and_finish(tour, level, measure=measure_sizes)
    yield tour.run_off_thread(lambda: idcard.remove(), "taking the card away")


PAYMENT_TOURS = {"water_bill": water_bill, "contribution_payment": contribution}


def _sim(tour: Tour, method: str, path: str, body: dict | None = None) -> dict:
    """The reference backend's /sim controls (loopback only)."""
    url = f"{tour.app.kiosk.config.backend.url.rstrip('/')}{path}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 - loopback reference backend
        return json.loads(answer.read())


def payment_doubt_then_cancel(tour: Tour, resident: str = "wang_jianguo") -> Iterator[Any]:
    """The network drops under the QR code (支付结果确认中), comes back, and 取消 closes the order."""
    from kiosk.sim.backend import bills
    from kiosk.sim.demo_data import BY_KEY

    kiosk = tour.app.kiosk
    account_no = next(a.account_no for a in bills.accounts_of(BY_KEY[resident]) if a.utility == "water")
    yield tour.until_screen("home")
    yield 0.5
    yield from open_item(tour, "utility_payment")
    tour.tap(tour.by_id("start_button"))
    yield tour.until_screen("payment_account")
    yield from _type_digits(tour, account_no)
    tour.tap(tour.find(lambda w: getattr(w, "key", None) == "ok", tour.by_id("keypad")))
    yield tour.until_screen("payment_confirm", 15)
    tour.tap(tour.by_id("confirm_button"))
    yield tour.until_screen("payment_qr")
    yield Wait(lambda: tour.screen().ready, "the QR code", 15)
    flow = kiosk.journey.flow
    tour.facts["order_no"] = flow.payment.order_no
    tour.facts["transaction_no"] = flow.txn
    yield tour.run_off_thread(
        lambda: _sim(tour, "POST", "/sim/faults", {"mode": "drop", "path_prefix": "/v1/orders/status"}),
        "the network to drop",
    )
    yield Wait(lambda: tour.screen().unknown, "the payment to become unknown", 15)
    yield 0.2
    tour.shot("qr-unknown")
    yield tour.run_off_thread(lambda: _sim(tour, "DELETE", "/sim/faults"), "the network to come back")
    tour.tap(tour.by_id("cancel_button"))
    yield tour.until_screen("result", 20)
    yield 0.2
    tour.shot("result")
    outcome = kiosk.journey.outcome
    tour.facts["outcome_title"] = outcome.title_zh if outcome else ""
    box: dict[str, Any] = {}
    yield tour.run_off_thread(lambda: box.update(order=kiosk.backend.order_status(flow.payment.order_no)), "the order")
    tour.facts["order_status"] = box.get("order", {}).get("status")
    tour.facts["journal"] = [r["status"] for r in kiosk.journal.recent() if r["transaction_no"] == flow.txn]
    tour.facts["printed"] = len(kiosk.hub.emulator("printer").documents)
    tour.tap(tour.by_id("done_button"))
    yield tour.until_screen("rating")
    tour.facts["rating_offered"] = True
