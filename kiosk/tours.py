"""The named tours: what ``kiosk demo --headless`` and the UI tests walk through."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kiosk.tour import Tour, Wait


def _item_for_flow(tour: Tour, flow: str):
    for item in tour.app.kiosk.catalogue.items:
        if item.flow == flow:
            return item
    raise AssertionError(f"the catalogue has no item with flow {flow}")


def open_item(tour: Tour, flow: str) -> Iterator[Any]:
    """From home: tap the item's category, then its tile."""
    item = _item_for_flow(tour, flow)
    yield tour.until_screen("home")
    cat = item.category
    tour.tap(tour.find(lambda w: getattr(w, "zh", None) == cat.label_zh and hasattr(w, "kind")))
    yield Wait(lambda: tour.screen().category == cat.value, f"category {cat.value}")
    while True:
        tiles = [w for w in tour.screen().ids.tiles.children if getattr(w, "item_id", "") == item.id]
        if tiles:
            break
        if tour.screen().page >= tour.screen().pages - 1:
            raise AssertionError(f"no tile for {item.id}")
        tour.tap(tour.screen().ids.next_page)
        yield 0.3
    tour.tap(tiles[0])
    yield tour.until_screen("guide")


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
    idcard = kiosk.hub.emulator("idcard")
    # the reviewer's way: open the simulator panel and place the resident's card from it
    tour.tap(tour.by_id("simulator_button"))
    yield 0.4
    tour.shot("simulator")
    label = dict(idcard.cards())[resident]
    tour.tap(tour.button(label))
    yield 0.1
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
    tour.tap(tour.button(level))
    yield 0.3
    tour.shot("rating-chosen")
    tour.tap(tour.by_id("submit_button"))
    yield tour.until_screen("home")
    yield tour.run_off_thread(lambda: idcard.remove(), "taking the card away")
    tour.shot("home-after")
    yield tour.run_off_thread(lambda: kiosk.delivery.flush(10.0), "delivering the outbox", 20)
    tour.facts["outbox_depth_after"] = kiosk.outbox.depth()
    tour.facts["session_holds_personal_data"] = kiosk.journey.session.holds_personal_data


def demo(tour: Tour) -> Iterator[Any]:
    yield from certificate_slice(tour)


TOURS = {"demo": demo, "certificate_slice": certificate_slice}
