"""Scan -> identity on screen, and a 付款码 payment from scan to receipt, in the real window.

A new process runs the kiosk offscreen (llvmpipe) against a reference backend on loopback with
simulated devices (the scanner emulator on a pty at 9600 baud, the printer on loopback TCP).
Each figure has a baseline measured in the same run, alternating session by session, so the
ratio says what the scanner path costs against the path residents already have:

* ``scan -> identity on screen``: the emulator starts sending a fresh 电子社保卡 code; the clock
  stops at the first frame (``glFinish``'ed) of the query screen showing the resident. Baseline:
  ``card placed -> identity on screen``, the ID card placed on its emulated reader, same item.
* ``付款码 scan -> receipt``: the emulator starts sending a payment code; the clock stops when
  the receipt has reached the printer. Baseline: ``QR paid -> receipt``, the platform told the
  order's QR code was paid (what the resident's phone does); the screen finds out by polling
  every 2 s, so that path is bounded by its polling.
* ``scanner: code written -> SCAN event``: the driver alone, in this process, paced at 9600 baud.

    .venv/bin/python -m bench.bench_scanner [--sessions 10]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.windowed import child_app, percentile, run_child  # noqa: E402 - after the path above

SCAN, CARD = "scan -> identity on screen", "card placed -> identity on screen"
CODE, QR = "付款码 scan -> receipt", "QR paid -> receipt"
FIGURES = (SCAN, CARD, CODE, QR)
#: (figure, its baseline) for the ratio lines
RATIOS = ((SCAN, CARD), (CODE, QR))


def _script(sessions: int, results: dict[str, list[float]]):
    def script(tour):
        from kivy.core.window import Window
        from kivy.graphics.opengl import glFinish

        from kiosk.sim.backend import bills
        from kiosk.tours.engine import Wait, leave, open_item
        from kiosk.tours.payments import _sim, _type_digits
        from kiosk.tours.soak_sessions import SETTLE_S

        kiosk = tour.app.kiosk
        scanner, idcard = kiosk.hub.emulator("scanner"), kiosk.hub.emulator("idcard")
        printer = kiosk.hub.emulator("printer")
        pending: dict = {}

        def on_flip(*_args):
            if pending.get("t") and pending["shown"]():
                glFinish()
                results[pending["what"]].append(time.perf_counter() - pending["t"])
                pending.clear()

        Window.bind(on_flip=on_flip)

        def identity_shown() -> bool:
            return tour.screen_name() == "query" and bool(getattr(tour.screen(), "loaded", False))

        def receipt_watch(what: str, count: int) -> None:
            """Time the receipt's arrival at the printer, on a thread of its own."""
            def watch() -> None:
                deadline = time.monotonic() + 60
                while len(printer.documents) < count and time.monotonic() < deadline:
                    time.sleep(0.001)
                if len(printer.documents) >= count:
                    results[what].append(time.perf_counter() - pending_pay["t"])
                pending_pay["done"] = True
            threading.Thread(target=watch, daemon=True).start()

        pending_pay: dict = {}

        yield tour.until_screen("home", 30)
        yield Wait(lambda: kiosk.hub.unavailable_reason(["idcard", "scanner", "printer"]) is None, "devices", 30)
        accounts: list[tuple[str, str]] = []
        box: dict = {}

        def due_accounts() -> None:
            for acct in bills.ACCOUNTS.values():
                statement = kiosk.backend.bill(acct.utility, acct.account_no)
                if statement["total_due_fen"] > 0:
                    accounts.append((acct.utility, acct.account_no))

        yield tour.run_off_thread(due_accounts, "the accounts with bills due", 60)
        items = {i.params.get("utility"): i.id for i in kiosk.catalogue.items if i.flow == "utility_payment"}
        query = next(i for i in kiosk.catalogue.items if i.flow == "insurance_query" and "scan" in i.identify)

        def end_visit():
            yield SETTLE_S
            tour.tap(tour.app.root.ids.home_button)
            yield Wait(lambda: tour.screen_name() in ("home", "farewell"), "the visit's end", 15)
            if tour.screen_name() == "farewell":
                yield from leave(tour)

        for _n in range(sessions):
            for way in ("card", "scan"):  # alternate: the baseline and the scanner, same conditions
                yield from open_item(tour, item_id=query.id)
                tour.tap(tour.by_id("start_button"))
                yield tour.until_screen("identify")
                yield SETTLE_S
                if way == "scan":
                    tour.tap(tour.by_id("scan_button"))
                    yield tour.until_screen("scan_identify")
                    yield tour.run_off_thread(lambda: box.update(code=_sim(tour, "POST", "/sim/tokens",
                                                                              {"resident": "zhang_xiuying"})["code"]),
                                              "a fresh code")
                    yield SETTLE_S
                    pending.update(what=SCAN, shown=identity_shown, t=time.perf_counter())
                    yield tour.run_off_thread(lambda: scanner.scan(box["code"]), "the scan")
                else:
                    pending.update(what=CARD, shown=identity_shown, t=time.perf_counter())
                    yield tour.run_off_thread(lambda: idcard.place("zhang_xiuying"), "placing the card")
                yield Wait(lambda: not pending, "the identity on screen", 30)
                yield from end_visit()
            for way in ("qr", "code"):
                utility, account = accounts.pop(0)
                yield from open_item(tour, item_id=items[utility])
                tour.tap(tour.by_id("start_button"))
                yield tour.until_screen("payment_account")
                yield from _type_digits(tour, account)
                tour.tap(tour.find(lambda w: getattr(w, "key", None) == "ok", tour.by_id("keypad")))
                yield tour.until_screen("payment_confirm", 15)
                yield Wait(lambda: tour.screen().loaded, "the bill", 15)
                tour.tap(tour.by_id("confirm_button"))
                yield tour.until_screen("payment_qr", 15)
                yield Wait(lambda: tour.screen().ready, "the QR code", 15)
                order_no = kiosk.journey.flow.payment.order_no
                count = len(printer.documents) + 1
                pending_pay.clear()
                if way == "code":
                    tour.tap(tour.by_id("paycode_button"))
                    yield tour.until_screen("payment_code")
                    yield SETTLE_S
                    code = "13" + "".join(random.choice("0123456789") for _ in range(16))  # paid at once
                    pending_pay["t"] = time.perf_counter()
                    receipt_watch(CODE, count)
                    yield tour.run_off_thread(lambda c=code: scanner.scan(c), "the payment code")
                else:
                    yield SETTLE_S
                    pending_pay["t"] = time.perf_counter()
                    receipt_watch(QR, count)
                    yield tour.run_off_thread(lambda o=order_no: _sim(tour, "POST", f"/sim/orders/{o}/pay", {}),
                                              "the phone to pay")
                yield Wait(lambda: pending_pay.get("done"), "the receipt", 60)
                yield tour.until_screen("result", 20)
                yield from end_visit()

    return script


def child(config_path: str, sessions: int, out: str) -> int:
    results: dict[str, list[float]] = {name: [] for name in FIGURES}
    return child_app(config_path, out, _script(sessions, results), results)


def measure(sessions: int) -> dict[str, list[float]]:
    scanner = 'driver = "simulated"        # the QR code scanner'
    return run_child("bench.bench_scanner", sessions, 120 + 90 * sessions,
                     **{scanner: "pace_baud = 9600\n" + scanner})


def driver_latency(runs: int) -> list[float]:
    """Code written to the pty (paced at 9600 baud) -> the driver's SCAN event, in this process."""
    from kiosk.hardware.base import EventKind
    from kiosk.hardware.scanner import SerialScanner
    from kiosk.sim.scanner_emulator import ScannerEmulator

    got = threading.Event()
    times: list[float] = []
    with ScannerEmulator(pace_baud=9600) as emu:
        scanner = SerialScanner(emu.port, settle_s=0.05)
        scanner.start(lambda e: got.set() if e.kind is EventKind.SCAN else None)
        try:
            while scanner.status().value != "online":
                time.sleep(0.01)
            for i in range(runs):
                got.clear()
                t = time.perf_counter()
                emu.scan(f"ESSC1.{i:016x}.0123456789abcdef")
                if got.wait(5):
                    times.append(time.perf_counter() - t)
        finally:
            scanner.stop()
    return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(args.child, args.sessions, args.out)
    os.environ.setdefault("TMPDIR", str(Path(__file__).resolve().parent.parent / ".tmp"))
    results = measure(args.sessions)
    results["scanner: code written -> SCAN event (9600 baud)"] = driver_latency(3 * args.sessions)
    print(f"QR code scanner, {args.sessions} sessions of each, offscreen llvmpipe, loopback backend")
    print(f"{'figure':<48} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, values in results.items():
        if values:
            ms = [v * 1000 for v in values]
            print(f"{name:<48} {len(ms):>4} {statistics.median(ms):>8.1f} {percentile(ms, 0.95):>8.1f} {max(ms):>8.1f}")
    for figure, baseline in RATIOS:
        a, b = results.get(figure), results.get(baseline)
        if a and b:
            print(f"{figure} / {baseline}: p50 x{statistics.median(a) / statistics.median(b):.2f}, "
                  f"p95 x{percentile(a, 0.95) / percentile(b, 0.95):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
