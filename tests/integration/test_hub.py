"""The device hub with the real simulated rating pad and hand-written stand-ins for the other
families (ID card, social-security card, printer), which other modules provide."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kiosk.config import DevicesConfig
from kiosk.errors import DeviceNotFoundError
from kiosk.hardware.base import DeviceEvent, DeviceStatus, EventKind, PaperStatus
from kiosk.hardware.hub import DeviceHub, DeviceSnapshot
from kiosk.sim.devices import ratingpad as build_ratingpad
from kiosk.sim.ratingpad_emulator import RatingPadEmulator
from tests.support import Events, wait_for

NEVER = 3600.0  # watch interval for tests that poll by hand


class FakeDevice:
    """Stands in for a family not under test: a status to set, a thread like real drivers."""

    def __init__(self, name: str, status: DeviceStatus = DeviceStatus.ONLINE) -> None:
        self.name = name
        self._status = status
        self.error = ""
        self.sink: Callable[[DeviceEvent], None] | None = None
        self.reconnects = 0
        self.stops = 0
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, sink: Callable[[DeviceEvent], None]) -> None:
        self.sink = sink
        self._thread = threading.Thread(
            target=self._halt.wait, name=f"fake-{self.name}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self.stops += 1
        self._halt.set()
        if self._thread is not None:
            self._thread.join()

    def status(self) -> DeviceStatus:
        return self._status

    def last_error(self) -> str:
        return self.error

    def reconnect(self) -> None:
        self.reconnects += 1

    def set(self, status: DeviceStatus, error: str = "") -> None:
        self._status, self.error = status, error

    def emit(self, kind: EventKind, payload: object = None) -> None:
        assert self.sink is not None
        self.sink(DeviceEvent(self.name, kind, payload))


class FakePrinter(FakeDevice):
    def __init__(self) -> None:
        super().__init__("printer")
        self.paper_state = PaperStatus.FULL

    def paper(self) -> PaperStatus:
        return self.paper_state


def config(**drivers: str) -> DevicesConfig:
    names = ("idcard", "sscard", "printer", "ratingpad")
    return DevicesConfig.model_validate({n: {"driver": drivers.get(n, "simulated")} for n in names})


class Kit:
    """A hub over fakes plus the real simulated rating pad."""

    def __init__(self, **hub_args: object) -> None:
        self.idcard = FakeDevice("idcard")
        self.sscard = FakeDevice("sscard")
        self.printer = FakePrinter()
        self.builders: dict[str, Callable] = {
            "idcard": lambda cfg: (self.idcard, None),
            "sscard": lambda cfg: self.sscard,  # a bare device is accepted too
            "printer": lambda cfg: (self.printer, "printer-emulator"),
            "ratingpad": build_ratingpad,
        }
        self.events = Events()
        self.hub_args = {"miss_threshold": 3, "watch_interval_s": NEVER, **hub_args}

    def start(self, devices: DevicesConfig | None = None) -> DeviceHub:
        self.hub = DeviceHub(devices or config(), builders=self.builders, **self.hub_args)
        self.hub.start(self.events)
        return self.hub


@pytest.fixture
def kit() -> Iterator[Kit]:
    k = Kit()
    yield k
    if hasattr(k, "hub"):
        k.hub.stop()


def test_every_device_is_built_and_reported_in_one_vocabulary(kit):
    hub = kit.start(config(sscard="none"))
    wait_for(lambda: hub.snapshot()["ratingpad"].status is DeviceStatus.ONLINE)
    snap = hub.snapshot()
    assert set(snap) == {"idcard", "sscard", "printer", "ratingpad", "scanner", "camera"}  # camera: not fitted here
    assert snap["scanner"].last_error == "not fitted (driver = none)"
    assert all(
        isinstance(s, DeviceSnapshot) and isinstance(s.status, DeviceStatus) for s in snap.values()
    )
    assert snap["idcard"].status is DeviceStatus.ONLINE and snap["idcard"].paper is None
    assert snap["printer"].paper is PaperStatus.FULL
    # a device that is not fitted is no device, with the reason, and nothing was built for it
    assert snap["sscard"].status is DeviceStatus.NO_DEVICE
    assert "not fitted" in snap["sscard"].last_error
    assert kit.sscard.sink is None and hub.device("sscard") is None
    assert hub.device("idcard") is kit.idcard
    assert hub.emulator("printer") == "printer-emulator"
    assert isinstance(hub.emulator("ratingpad"), RatingPadEmulator)
    assert hub.unavailable_reason(["idcard", "printer", "ratingpad"]) is None
    assert hub.unavailable_reason(["sscard"]) == (
        "本终端未配备社保卡读卡器",
        "This terminal has no social security card reader",
    )


def test_a_device_is_reported_down_only_after_n_misses_and_up_again_at_once(kit):
    hub = kit.start()
    assert hub.snapshot()["idcard"].status is DeviceStatus.ONLINE
    since = hub.snapshot()["idcard"].since
    # flapping: two bad readings, one good, two bad: never three in a row
    for status in (
        DeviceStatus.OFFLINE,
        DeviceStatus.NO_DEVICE,
        DeviceStatus.ONLINE,
        DeviceStatus.OFFLINE,
        DeviceStatus.OFFLINE,
    ):
        kit.idcard.set(status)
        hub.poll()
        assert hub.snapshot()["idcard"].status is DeviceStatus.ONLINE
        assert hub.unavailable_reason(["idcard"]) is None
    assert hub.snapshot()["idcard"].since == since
    kit.idcard.set(DeviceStatus.OFFLINE, "no answer")
    hub.poll()  # the third miss in a row
    snap = hub.snapshot()["idcard"]
    assert (snap.status, snap.last_error) == (DeviceStatus.OFFLINE, "no answer")
    assert snap.since > since
    assert hub.unavailable_reason(["printer", "idcard"]) == (
        "身份证阅读器暂时离线",
        "The ID card reader is offline",
    )
    kit.idcard.set(DeviceStatus.ONLINE)
    hub.poll()  # one good reading is enough
    assert hub.snapshot()["idcard"].status is DeviceStatus.ONLINE
    assert kit.events.payloads(EventKind.STATUS, "idcard") == [
        DeviceStatus.ONLINE,
        DeviceStatus.OFFLINE,
        DeviceStatus.ONLINE,
    ]


def test_a_device_saying_it_is_up_is_shown_up_without_waiting_for_the_watcher(kit):
    hub = kit.start()
    kit.idcard.set(DeviceStatus.NO_DEVICE)
    for _ in range(3):
        hub.poll()
    assert hub.snapshot()["idcard"].status is DeviceStatus.NO_DEVICE
    kit.idcard.set(DeviceStatus.ONLINE)
    kit.idcard.emit(EventKind.STATUS, DeviceStatus.ONLINE)
    assert hub.snapshot()["idcard"].status is DeviceStatus.ONLINE
    # and a device saying it is down does not skip the debounce
    kit.idcard.emit(EventKind.STATUS, DeviceStatus.OFFLINE)
    assert hub.snapshot()["idcard"].status is DeviceStatus.ONLINE


def test_a_failing_builder_does_not_stop_the_others_and_is_retried(kit):
    attempts = []

    def flaky_idcard(cfg):
        attempts.append(cfg.driver)
        if len(attempts) < 3:
            raise RuntimeError("SAM module did not answer")
        return kit.idcard, None

    kit.builders["idcard"] = flaky_idcard
    kit.builders["sscard"] = "kiosk.hardware.no_such_family:build"
    kit.hub_args["watch_interval_s"] = 0.05
    hub = kit.start()
    snap = hub.snapshot()
    assert snap["idcard"].status is DeviceStatus.HARDWARE_ERROR
    assert "SAM module did not answer" in snap["idcard"].last_error
    assert snap["sscard"].status is DeviceStatus.NO_DEVICE
    assert "kiosk.hardware.no_such_family is not installed" in snap["sscard"].last_error
    assert hub.unavailable_reason(["sscard"]) == (
        "社保卡读卡器未连接",
        "The social security card reader is not connected",
    )
    # the rest keeps serving: the real rating pad still rates
    wait_for(lambda: hub.snapshot()["ratingpad"].status is DeviceStatus.ONLINE)
    pad, emu = hub.device("ratingpad"), hub.emulator("ratingpad")
    pad.prompt(30)
    wait_for(lambda: emu.lit)
    emu.press(5)
    wait_for(lambda: kit.events.payloads(EventKind.RATING, "ratingpad") == [5])
    # the hub keeps retrying the failed family until it builds
    wait_for(lambda: hub.snapshot()["idcard"].status is DeviceStatus.ONLINE, timeout=5)
    assert len(attempts) == 3 and hub.device("idcard") is kit.idcard


def test_a_device_whose_start_raises_is_a_hardware_error_and_reconnect_retries_it(kit):
    class BrokenStart(FakeDevice):
        def start(self, sink):
            raise OSError("ttyS3: input/output error")

    broken = BrokenStart("idcard")
    next_device: list[FakeDevice] = [broken]
    kit.builders["idcard"] = lambda cfg: (next_device[0], None)
    hub = kit.start()
    snap = hub.snapshot()["idcard"]
    assert snap.status is DeviceStatus.HARDWARE_ERROR and "input/output error" in snap.last_error
    assert broken.stops == 1  # whatever it half-opened was closed
    assert hub.unavailable_reason(["idcard"]) == (
        "身份证阅读器故障",
        "The ID card reader has a fault",
    )
    next_device[0] = kit.idcard  # the technician fixed the cable
    hub.reconnect("idcard")  # technician: try again now, not after the back-off
    hub.poll()
    assert hub.snapshot()["idcard"].status is DeviceStatus.ONLINE
    hub.reconnect("idcard")  # a running device is asked to reopen its transport
    assert kit.idcard.reconnects == 1


def test_printer_out_of_paper_is_unavailable_but_low_paper_is_not(kit):
    hub = kit.start()
    kit.printer.paper_state = PaperStatus.LOW
    hub.poll()
    assert hub.snapshot()["printer"].paper is PaperStatus.LOW
    assert hub.unavailable_reason(["printer"]) is None
    kit.printer.paper_state = PaperStatus.OUT
    kit.printer.set(DeviceStatus.USER_ERROR)  # a driver may also call it a user error
    hub.poll()
    assert hub.unavailable_reason(["idcard", "printer"]) == (
        "打印机缺纸",
        "The printer is out of paper",
    )
    kit.printer.paper_state = PaperStatus.FULL
    kit.printer.set(DeviceStatus.ONLINE)
    hub.poll()
    assert hub.unavailable_reason(["printer"]) is None
    assert kit.events.payloads(EventKind.PAPER, "printer") == [
        PaperStatus.FULL,
        PaperStatus.LOW,
        PaperStatus.OUT,
        PaperStatus.FULL,
    ]


def test_device_events_reach_the_sink_and_paper_events_are_not_repeated(kit):
    hub = kit.start()
    kit.idcard.emit(EventKind.CARD_PLACED, "identity")
    kit.idcard.emit(EventKind.CARD_REMOVED)
    assert kit.events.payloads(EventKind.CARD_PLACED, "idcard") == ["identity"]
    assert kit.events.payloads(EventKind.CARD_REMOVED, "idcard") == [None]
    kit.printer.emit(EventKind.PAPER, PaperStatus.OUT)
    kit.printer.emit(EventKind.PAPER, PaperStatus.OUT)
    assert kit.events.payloads(EventKind.PAPER, "printer") == [PaperStatus.FULL, PaperStatus.OUT]
    assert hub.snapshot()["printer"].paper is PaperStatus.OUT


def test_a_sink_that_raises_does_not_stop_the_devices(kit):
    def bad_sink(event):
        raise ValueError("UI bug")

    kit.events = bad_sink
    hub = kit.start()
    kit.idcard.emit(EventKind.CARD_PLACED, "identity")  # swallowed and logged
    wait_for(lambda: hub.snapshot()["ratingpad"].status is DeviceStatus.ONLINE)
    kit.idcard.set(DeviceStatus.OFFLINE)
    for _ in range(3):
        hub.poll()
    assert hub.snapshot()["idcard"].status is DeviceStatus.OFFLINE


def test_a_status_query_that_raises_counts_as_a_hardware_error(kit):
    hub = kit.start()

    def explode():
        raise RuntimeError("driver bug")

    kit.sscard.status = explode
    for _ in range(3):
        hub.poll()
    snap = hub.snapshot()["sscard"]
    assert snap.status is DeviceStatus.HARDWARE_ERROR and "driver bug" in snap.last_error


def test_the_simulated_pad_losing_its_cable_is_debounced_by_the_watcher():
    k = Kit(watch_interval_s=0.05, miss_threshold=3)
    hub = k.start()
    try:
        wait_for(lambda: hub.snapshot()["ratingpad"].status is DeviceStatus.ONLINE)
        hub.emulator("ratingpad").unplug()
        wait_for(lambda: hub.snapshot()["ratingpad"].status is DeviceStatus.NO_DEVICE)
        assert hub.unavailable_reason(["ratingpad"]) == (
            "评价器未连接",
            "The evaluation pad is not connected",
        )
        hub.emulator("ratingpad").replug()
        wait_for(lambda: hub.snapshot()["ratingpad"].status is DeviceStatus.ONLINE)
    finally:
        hub.stop()


def test_stop_stops_every_thread_and_emulator():
    before = threading.active_count()
    k = Kit(watch_interval_s=0.05)
    hub = k.start()
    wait_for(lambda: hub.snapshot()["ratingpad"].status is DeviceStatus.ONLINE)
    port = hub.emulator("ratingpad").port
    # watcher + pad driver + pad emulator + two fake device threads
    assert threading.active_count() >= before + 5
    hub.stop()
    hub.stop()  # idempotent
    assert threading.active_count() == before
    assert (k.idcard.stops, k.sscard.stops, k.printer.stops) == (1, 1, 1)
    assert not Path(port).exists()
    assert hub.device("ratingpad") is None


def test_a_missing_default_family_is_no_device_with_a_clear_reason(monkeypatch):
    # the real default builders, with one family's module absent from this installation
    hub = DeviceHub(config(idcard="none", sscard="none", printer="none"), watch_interval_s=NEVER)
    hub._builders["ratingpad"] = "kiosk.hardware.ratingpad_vendor_x:build"
    hub.start(Events())
    try:
        snap = hub.snapshot()["ratingpad"]
        assert snap.status is DeviceStatus.NO_DEVICE
        assert (
            snap.last_error
            == "cannot start ratingpad: driver module kiosk.hardware.ratingpad_vendor_x is not installed"
        )
    finally:
        hub.stop()


def test_the_default_rating_pad_builder_is_used_when_none_is_given():
    emu = RatingPadEmulator()
    emu.start()
    devices = DevicesConfig.model_validate({
        "idcard": {"driver": "none"}, "sscard": {"driver": "none"}, "printer": {"driver": "none"},
        "ratingpad": {"driver": "serial", "port": emu.port},
    })
    hub = DeviceHub(devices, watch_interval_s=NEVER)
    hub.start(Events())
    try:
        wait_for(lambda: hub.snapshot()["ratingpad"].status is DeviceStatus.ONLINE)
        assert type(hub.device("ratingpad")).__name__ == "SerialRatingPad"
        assert hub.emulator("ratingpad") is None  # the family's own build: a real driver only
    finally:
        hub.stop()
        emu.stop()


def test_the_default_builders_build_nothing_simulated():
    """Simulated devices come only from the composition root (kiosk.sim.devices)."""
    hub = DeviceHub(config(idcard="none", sscard="none", printer="none"), watch_interval_s=NEVER)
    hub.start(Events())
    try:
        snap = hub.snapshot()["ratingpad"]
        assert snap.status is DeviceStatus.HARDWARE_ERROR and "simulated" in snap.last_error
    finally:
        hub.stop()


def test_device_not_found_from_a_builder_is_no_device():
    def absent(cfg):
        raise DeviceNotFoundError("no ESC/POS printer at tcp://127.0.0.1:9")

    hub = DeviceHub(
        config(idcard="none", sscard="none", ratingpad="none"),
        builders={"printer": absent},
        watch_interval_s=NEVER,
    )
    hub.start(Events())
    try:
        assert hub.snapshot()["printer"].status is DeviceStatus.NO_DEVICE
        assert hub.unavailable_reason(["printer"]) == (
            "打印机未连接",
            "The printer is not connected",
        )
    finally:
        hub.stop()
