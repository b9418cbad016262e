"""Tours through the query screen: a query paged and re-chosen by year, then a certificate printed.

Run with ``kiosk demo --headless --tour queries --out DIR``; ``tests/ui/test_queries_ui.py``
asserts on what it records.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kiosk.tours.engine import Tour, Wait, leave, open_item, rate


def _identify(tour: Tour, resident: str) -> Iterator[Any]:
    tour.tap(tour.by_id("start_button"))
    yield tour.until_screen("identify")
    idcard = tour.app.kiosk.hub.emulator("idcard")
    yield tour.run_off_thread(lambda: idcard.place(resident), "placing the ID card")
    yield tour.until_screen("query", 15)
    yield Wait(lambda: tour.screen().loaded and not tour.screen().busy, "the record to load", 15)
    yield 0.3


def _rate_and_leave(tour: Tour, level: str = "满意") -> Iterator[Any]:
    tour.tap(tour.by_id("done_button"))
    yield tour.until_screen("rating")
    yield from rate(tour, level)
    yield from leave(tour)
    idcard = tour.app.kiosk.hub.emulator("idcard")
    yield tour.run_off_thread(lambda: idcard.remove(), "taking the card away")
    yield 0.3


def contribution_query(tour: Tour, resident: str = "wang_jianguo") -> Iterator[Any]:
    """缴费明细: read page 1, turn the page, pick an earlier year, finish."""
    kiosk = tour.app.kiosk
    yield from open_item(tour, "contribution_history")
    yield from _identify(tour, resident)
    screen = tour.screen()
    tour.shot("query")
    tour.facts["query_pages"] = screen.pages
    tour.facts["query_chosen"] = screen.view.chosen
    tour.facts["query_choice_labels"] = [c.label_zh for c in screen.view.choices]
    if screen.pages > 1:
        tour.tap(tour.screen().ids.pager.ids.next_page)
        yield Wait(lambda: tour.screen().page == 1, "page 2")
        yield 0.2
        tour.shot("query-page2")
    earlier = screen.view.choices[1]
    tour.tap(tour.button(earlier.label_zh))
    yield Wait(lambda: tour.screen().view.chosen == earlier.value and not tour.screen().busy, "the earlier year", 15)
    yield 0.3
    tour.shot("query-earlier-year")
    tour.facts["query_rechosen"] = tour.screen().view.chosen
    tour.tap(tour.by_id("finish_button"))
    yield tour.until_screen("result", 15)
    yield 0.2
    tour.shot("query-result")
    tour.facts["query_outcome_ok"] = kiosk.journey.outcome.ok if kiosk.journey.outcome else None
    tour.facts["query_transaction_no"] = kiosk.journey.session.transaction_no
    yield from _rate_and_leave(tour)


def rights_certificate(tour: Tour, resident: str = "wu_haitao") -> Iterator[Any]:
    """个人权益记录查询打印: read the record, print it, keep the PDF preview's path."""
    kiosk = tour.app.kiosk
    yield from open_item(tour, "rights_record")
    yield from _identify(tour, resident)
    tour.shot("certificate")
    tour.tap(tour.by_id("print_button"))
    yield tour.until_screen("result", 20)
    yield 0.2
    tour.shot("certificate-result")
    outcome = kiosk.journey.outcome
    tour.facts["certificate_outcome_ok"] = outcome.ok if outcome else None
    tour.facts["certificate_artifacts"] = list(outcome.artifacts) if outcome else []
    tour.facts["certificate_code"] = kiosk.journey.session.data.get("verification_code", "")
    printer = kiosk.hub.emulator("printer")
    if printer is not None and printer.documents:
        printer.render_png(Path(tour.out_dir) / "certificate-receipt.png")
        tour.facts["receipts_printed"] = len(printer.documents)
        tour.facts["receipt_text"] = printer.documents[-1].text
    yield from _rate_and_leave(tour)


def queries(tour: Tour) -> Iterator[Any]:
    yield tour.until_screen("home")
    yield 0.5
    yield from contribution_query(tour)
    yield from rights_certificate(tour)
    kiosk = tour.app.kiosk
    yield tour.run_off_thread(lambda: kiosk.delivery.flush(10.0), "delivering the outbox", 20)
    tour.facts["session_holds_personal_data"] = kiosk.journey.session.holds_personal_data
