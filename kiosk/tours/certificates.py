"""个人参保缴费证明 with a range of the resident's choosing, through the real window.

Run with ``kiosk demo --headless --tour certificate_range --out DIR``;
``tests/ui/test_certificate_range.py`` asserts on what it records: the scheme picked with a
button, the first month picked from the year row and the month grid, what the record screen
then showed, and the certificate that came out of the printer for exactly that.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kiosk.tours.engine import Tour, Wait, leave, open_item, rate, tap_placed


def _settled(tour: Tour) -> bool:
    screen = tour.screen()
    return bool(screen.loaded) and not screen.busy and not tour.tapping


def certificate_range(tour: Tour, resident: str = "wang_jianguo") -> Iterator[Any]:
    """Pick 职工医保, move the first month back to the July of the year before, print, rate."""
    kiosk = tour.app.kiosk
    idcard, printer = kiosk.hub.emulator("idcard"), kiosk.hub.emulator("printer")
    yield from open_item(tour, "contribution_certificate")
    tour.tap(tour.by_id("start_button"))
    yield tour.until_screen("identify")
    yield tour.run_off_thread(lambda: idcard.place(resident), "placing the ID card")
    yield tour.until_screen("record", 15)
    yield Wait(lambda: _settled(tour), "the record to load", 15)
    yield 0.2
    tour.shot("record")
    first = tour.screen().record
    tour.facts["first_scheme"], tour.facts["first_range"] = first.scheme, [first.start, first.end]

    yield from tap_placed(tour, lambda w: getattr(w, "zh", "") == "职工医保", "the 职工医保 button")
    yield Wait(lambda: _settled(tour) and tour.screen().record.scheme == "medical_employee", "the other scheme", 15)
    yield 0.2
    tour.shot("record-scheme")

    year = int(tour.screen().record.end[:4]) - 1
    tour.tap(tour.by_id("start_button"))
    yield Wait(lambda: tour.screen().picking == "start", "the month picker")
    yield 0.3
    tour.shot("picker")
    yield from tap_placed(tour, lambda w: getattr(w, "zh", "") == f"{year}年", f"the year {year}")
    yield Wait(lambda: tour.screen().picker_year == year, "the year picked")
    yield from tap_placed(tour, lambda w: getattr(w, "zh", "") == "7月", "July")
    yield Wait(lambda: _settled(tour) and tour.screen().record.start == f"{year}-07", "the new range", 15)
    yield 0.3
    tour.shot("record-range")
    shown = tour.screen().record
    tour.facts["scheme"], tour.facts["range"] = shown.scheme, [shown.start, shown.end]
    tour.facts["shown_rows"] = [list(row) for row in shown.rows]
    tour.facts["shown_facts"] = [list(fact) for fact in shown.facts]
    tour.facts["shown_pages"] = tour.screen().pages

    tour.tap(tour.by_id("print_button"))
    yield tour.until_screen("result", 20)
    yield tour.run_off_thread(lambda: printer.wait_for_documents(1), "the certificate on paper")
    tour.facts["outcome_ok"] = kiosk.journey.outcome.ok
    tour.facts["artifacts"] = list(kiosk.journey.outcome.artifacts)
    tour.facts["receipt_lines"] = printer.documents[-1].lines
    tour.facts["receipt_images"] = len(printer.documents[-1].images)
    printer.render_png(tour.out_dir / "receipt.png")
    tour.shot("result")
    tour.tap(tour.by_id("done_button"))
    yield tour.until_screen("rating")
    yield from rate(tour, "满意")
    yield from leave(tour)
