"""The real scanner driver and pyserial against the emulated scanner on a pty."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kiosk.config import DevicesConfig, SimulatedDevice
from kiosk.config import SerialScanner as SerialScannerConfig
from kiosk.errors import DeviceNotFoundError, DeviceTimeoutError
from kiosk.hardware.base import DeviceEvent, DeviceStatus, EventKind
from kiosk.hardware.hub import DeviceHub
from kiosk.hardware.scanner import SerialScanner, build
from kiosk.sim import devices as simulated
from kiosk.sim.scanner_emulator import ScannerEmulator

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "ESSC1.5f0c2a9be1d34c7a.0b1c2d3e4f5a6b7c"
PAYCODE = "134527980012345678"


def wait_for(cond: Callable[[], object], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.005)


class Events:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.all: list[DeviceEvent] = []

    def __call__(self, event: DeviceEvent) -> None:
        with self._lock:
            self.all.append(event)

    def of(self, kind: EventKind) -> list[DeviceEvent]:
        with self._lock:
            return [e for e in self.all if e.kind is kind]

    def codes(self) -> list[str]:
        return [e.payload.text for e in self.of(EventKind.SCAN)]


@pytest.fixture
def emulator() -> Iterator[ScannerEmulator]:
    emu = ScannerEmulator().start()
    yield emu
    emu.stop()


@pytest.fixture
def running(emulator) -> Iterator[tuple[SerialScanner, Events]]:
    scanner = SerialScanner(emulator.port, settle_s=0.05, reopen_interval_s=0.1)
    events = Events()
    scanner.start(events)
    wait_for(lambda: scanner.status() is DeviceStatus.ONLINE)
    yield scanner, events
    scanner.stop()


def test_a_scan_becomes_one_scan_event_even_in_pieces(running, emulator):
    scanner, events = running
    emulator.scan(TOKEN)
    emulator.scan(PAYCODE, pieces=5, gap_s=0.02)
    wait_for(lambda: len(events.codes()) == 2)
    assert events.codes() == [TOKEN, PAYCODE]
    assert scanner.stats["codes"] == 2 and scanner.status() is DeviceStatus.ONLINE


@pytest.mark.parametrize("suffix", ["CRLF", "LF"])
def test_the_configured_suffix_is_honoured(tmp_path, suffix):
    with ScannerEmulator(tmp_path / "scanner", suffix=suffix) as emu:
        scanner = SerialScanner(emu.port, suffix=suffix, settle_s=0.05)
        events = Events()
        scanner.start(events)
        try:
            wait_for(lambda: scanner.status() is DeviceStatus.ONLINE)
            emu.scan("first line\rsecond")  # a CR inside the code is content, not an end
            wait_for(lambda: events.codes())
            assert events.codes() == ["first line\rsecond"]
        finally:
            scanner.stop()


def test_noise_at_power_up_is_dropped_and_the_next_scan_reads(running, emulator):
    scanner, events = running
    emulator.unplug()
    wait_for(lambda: scanner.status() is DeviceStatus.NO_DEVICE)
    emulator.replug(with_noise=True)
    wait_for(lambda: scanner.status() is DeviceStatus.ONLINE, 5)
    emulator.noise()  # and again once the port is open: a scanner re-powered on RS-232
    # no suffix follows: once the framer's gap has passed the noise is dropped (and reported),
    # never kept as the start of the next code
    wait_for(lambda: any("without a suffix" in e.payload for e in events.of(EventKind.ERROR)), 5)
    emulator.scan(TOKEN)
    wait_for(lambda: events.codes())
    assert events.codes() == [TOKEN]


def test_a_code_too_long_and_bytes_that_are_no_text_are_refused_and_reported(emulator):
    scanner = SerialScanner(emulator.port, max_bytes=64, settle_s=0.05)
    events = Events()
    scanner.start(events)
    try:
        wait_for(lambda: scanner.status() is DeviceStatus.ONLINE)
        emulator.scan("Q" * 200)
        emulator.scan(b"\x81\x20\x80\x80")
        emulator.scan("刘䶮", encoding="gb18030")
        wait_for(lambda: events.codes())
        assert [(e.payload.text, e.payload.encoding) for e in events.of(EventKind.SCAN)] == [("刘䶮", "gb18030")]
        errors = [e.payload for e in events.of(EventKind.ERROR)]
        assert any("longer than 64 bytes" in e for e in errors)
        assert any("neither UTF-8 nor GB18030" in e for e in errors)
        assert scanner.status() is DeviceStatus.ONLINE  # the scanner works; those codes did not
    finally:
        scanner.stop()


def test_the_port_vanishing_and_coming_back(running, emulator):
    scanner, events = running
    emulator.unplug()
    wait_for(lambda: scanner.status() is DeviceStatus.NO_DEVICE)
    assert "scanner" in scanner.last_error()
    emulator.scan(PAYCODE)  # scanned while unplugged: goes nowhere
    emulator.replug()
    wait_for(lambda: scanner.status() is DeviceStatus.ONLINE, 5)
    emulator.scan(TOKEN)
    wait_for(lambda: events.codes())
    assert events.codes() == [TOKEN]
    statuses = [e.payload for e in events.of(EventKind.STATUS)]
    assert statuses[-2:] == [DeviceStatus.NO_DEVICE, DeviceStatus.ONLINE]
    assert scanner.stats["opens"] >= 2


def test_codes_are_never_logged_in_full(running, emulator, caplog):
    caplog.set_level(logging.DEBUG)
    scanner, events = running
    emulator.scan(PAYCODE)
    wait_for(lambda: events.codes())
    assert "scanner" in caplog.text and "13**…**78" in caplog.text
    assert PAYCODE not in caplog.text
    assert PAYCODE not in repr(events.of(EventKind.SCAN))


def test_read_once_without_the_thread_and_with_it(emulator):
    scanner = SerialScanner(emulator.port, settle_s=0.05)
    threading.Timer(0.3, lambda: emulator.scan(PAYCODE)).start()
    assert scanner.read_once(5).text == PAYCODE
    with pytest.raises(DeviceTimeoutError):
        scanner.read_once(0.3)
    with pytest.raises(DeviceNotFoundError):
        SerialScanner("/dev/does-not-exist").read_once(1)


def test_build_and_the_simulated_pair():
    scanner, emulator = build(SerialScannerConfig(driver="serial", port="/dev/ttyACM9", suffix="CRLF"))
    assert isinstance(scanner, SerialScanner) and emulator is None and scanner.port == "/dev/ttyACM9"
    scanner, emulator = simulated.scanner(SimulatedDevice(driver="simulated"))
    try:
        events = Events()
        scanner.start(events)
        wait_for(lambda: scanner.status() is DeviceStatus.ONLINE)
        emulator.scan(TOKEN)
        wait_for(lambda: events.codes())
        assert events.codes() == [TOKEN]
    finally:
        scanner.stop()
        emulator.stop()


def test_the_hub_reports_a_scanner_that_is_gone_in_resident_words():
    names = ("idcard", "sscard", "printer", "ratingpad")
    devices = DevicesConfig.model_validate({**{n: {"driver": "none"} for n in names}, "scanner": {"driver": "simulated"}})
    hub = DeviceHub(devices, builders={"scanner": simulated.scanner}, miss_threshold=2, watch_interval_s=0.05)
    hub.start(Events())
    try:
        wait_for(lambda: hub.snapshot()["scanner"].status is DeviceStatus.ONLINE)
        assert hub.unavailable_reason(["scanner"]) is None
        hub.emulator("scanner").unplug()
        wait_for(lambda: hub.unavailable_reason(["scanner"]) is not None, 5)
        assert hub.unavailable_reason(["scanner"]) == ("扫码器未连接", "The QR code scanner is not connected")
        hub.emulator("scanner").replug()
        wait_for(lambda: hub.unavailable_reason(["scanner"]) is None, 5)
    finally:
        hub.stop()
    none = DeviceHub(DevicesConfig.model_validate({n: {"driver": "none"} for n in names}))
    assert none.unavailable_reason(["scanner"]) == ("本终端未配备扫码器", "This terminal has no QR code scanner")


def _cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kiosk.cli", "device", "scanner", *args],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def test_the_device_command_prints_one_scan_masked(emulator):
    proc = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "device", "scanner", "--port", emulator.port,
                             "--timeout", "20"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        ready = proc.stderr.readline()  # said once the port is open and settled
        assert ready.startswith("waiting up to 20 s for a scan on"), ready
        emulator.scan(PAYCODE)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    doc = json.loads(out)
    assert doc["code"] == "13**…**78 (18)" and doc["encoding"] == "utf-8" and PAYCODE not in out


def test_the_device_command_says_why_it_fails():
    done = _cli("--port", "/dev/does-not-exist", "--timeout", "1")
    assert done.returncode == 1 and "cannot open the scanner" in done.stderr
