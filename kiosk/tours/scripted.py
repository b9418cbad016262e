"""Drive the whole kiosk without a window: device events pumped on the caller's thread.

This is what the ``kiosk journey`` command, the integration tests, the soak run and the
benchmarks use. The journey, the devices (real drivers against emulators), the backend
client and the outbox are the same objects the app uses; only the view is missing.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from typing import Any

from kiosk.bootstrap import Kiosk
from kiosk.hardware.base import DeviceEvent, EventKind
from kiosk.services.journey import Outcome
from kiosk.services.rating import Level, Rating


class ScriptTimeout(AssertionError):
    pass


class ScriptedKiosk:
    def __init__(self, kiosk: Kiosk) -> None:
        self.kiosk = kiosk
        self.events: queue.Queue[Any] = queue.Queue()
        self.journey = kiosk.journey
        self.refused: list[Exception] = []  # device events the journey refused (bad card...)
        self.scanned: list[Any] = []  # codes the journey took on its scan step, oldest first
        self.scans_seen = 0  # every code the scanner reported, taken or not

    def start(self) -> ScriptedKiosk:
        self.kiosk.start(sink=self.events.put, on_online_change=lambda online: self.events.put(("online", online)))
        return self

    def stop(self) -> None:
        self.kiosk.stop()

    def __enter__(self) -> ScriptedKiosk:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def pump(self, until: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
        """Hand queued events to the journey (on this thread) until ``until()`` holds."""
        deadline = time.monotonic() + timeout
        while not until():
            left = deadline - time.monotonic()
            if left <= 0:
                raise ScriptTimeout(f"timed out waiting for {what or until} (journey in {self.journey.state})")
            try:
                event = self.events.get(timeout=min(left, 0.05))
            except queue.Empty:
                continue
            self.handle(event)

    def handle(self, event: Any) -> None:
        from kiosk.errors import KioskError

        if isinstance(event, tuple) and event[0] == "online":
            self.journey.backend_online = event[1]
            return
        assert isinstance(event, DeviceEvent)
        if event.kind is EventKind.SCAN:
            self.scans_seen += 1
        code = self.journey.accept_scan(event)
        if code is not None:
            self.scanned.append(code)
        try:
            self.journey.on_device_event(event)
        except KioskError as e:
            self.refused.append(e)

    def wait_device(self, name: str, timeout: float = 10.0) -> None:
        """Until the hub reports the device usable (drivers start asynchronously)."""
        self.pump(lambda: self.kiosk.hub.unavailable_reason([name]) is None, timeout, f"device {name}")

    # --- whole journeys -------------------------------------------------------------------

    def item_for_flow(self, flow: str):
        return next(i for i in self.kiosk.catalogue.items if i.flow == flow)

    def identify_with_idcard(self, resident: str, timeout: float = 10.0) -> None:
        emulator = self.kiosk.hub.emulator("idcard")
        emulator.place(resident)
        self.pump(lambda: self.journey.state != "identify" or bool(self.refused), timeout, "the ID card to be read")

    def identify_by_scan(self, code: str, timeout: float = 10.0) -> None:
        """扫码核验: the resident chooses it and shows ``code`` to the scanner; the code is resolved
        by the backend (as the scan screen does on its worker) and identifies."""
        from kiosk.errors import KioskError
        from kiosk.services.scan_identify import identity_from_code

        self.journey.start_scan()
        taken = len(self.scanned)
        self.kiosk.hub.emulator("scanner").scan(code)
        self.pump(lambda: len(self.scanned) > taken, timeout, "the code to be scanned")
        try:
            who = identity_from_code(self.kiosk.backend, self.scanned[-1], self.journey.next_scan_key())
            self.journey.identify(who, "scan")
        except KioskError as e:
            self.refused.append(e)

    def take_card(self) -> None:
        emulator = self.kiosk.hub.emulator("idcard")
        if emulator.placed is not None:
            emulator.remove()
            self.pump(lambda: self.kiosk.hub.device("idcard").current() is None, 10, "the card to be taken")

    def leave(self, timeout: float = 10.0) -> None:
        """The resident takes every card and walks away: the farewell, then home."""
        self.take_card()
        slot = self.kiosk.hub.emulator("sscard")
        if slot is not None and slot.card is not None:
            slot.remove()
            self.pump(lambda: not self.kiosk.hub.device("sscard").card_present(), timeout, "the card out")
        journey = self.journey
        self.pump(lambda: journey.farewell is None or not journey.farewell.cards, timeout, "the farewell's cards")
        if journey.state == "farewell":
            journey.dismiss_farewell()

    def certificate(self, resident: str, level: int | None = 4, reasons: tuple[str, ...] = ()) -> dict:
        """个人参保缴费证明查询打印, end to end. Returns what happened, masked."""
        item = self.item_for_flow("contribution_certificate")
        for name in ("idcard", *item.devices):
            self.wait_device(name)
        self.journey.choose(item.id)
        self.journey.proceed()
        self.identify_with_idcard(resident)
        flow = self.journey.flow
        record = flow.load()
        outcome: Outcome = flow.print_certificate() if not record.empty else Outcome(True, "查询完成", "Query finished")
        txn = self.journey.session.transaction_no
        self.journey.finish(outcome)
        self.journey.to_rating()
        if level is None:
            self.journey.rating_timed_out()
        else:
            self.journey.rate(Rating(Level(level), reasons=reasons, source="screen"))
        self.leave()
        return {"transaction_no": txn, "ok": outcome.ok, "record_empty": record.empty,
                "masked_id": record.masked_id, "state": self.journey.state}
