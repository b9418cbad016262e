"""The real rating-pad driver and pyserial against the emulated pad on a pty."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.config import SerialRatingPad as SerialRatingPadConfig
from kiosk.config import SimulatedDevice
from kiosk.hardware import ratingpad_frame as rf
from kiosk.hardware.base import DeviceStatus, EventKind
from kiosk.hardware.ratingpad import SerialRatingPad, build
from kiosk.sim import devices as simulated
from kiosk.sim.ratingpad_emulator import RatingPadEmulator
from tests.support import Events, wait_for

ROOT = Path(__file__).resolve().parents[2]
HEARTBEAT_S = 0.1


@pytest.fixture
def emulator() -> Iterator[RatingPadEmulator]:
    emu = RatingPadEmulator()
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def pad(emulator: RatingPadEmulator) -> Iterator[tuple[SerialRatingPad, Events]]:
    events = Events()
    driver = SerialRatingPad(emulator.port, heartbeat_s=HEARTBEAT_S, miss_limit=3)
    driver.start(events)
    wait_for(lambda: driver.status() is DeviceStatus.ONLINE)
    yield driver, events
    driver.stop()


def test_a_prompt_lights_the_pad_and_one_key_gives_one_rating(pad, emulator):
    driver, events = pad
    assert driver.firmware == "KIOSK-EMU 1.0"
    driver.prompt(30)
    wait_for(lambda: emulator.lit)
    # the pad was told the timeout too. A status report already on its way when the prompt went
    # out says the pad is dark, and the driver's reconcile sends the prompt again with what is
    # left of its time (seen on a loaded machine): the same prompt, never a longer one.
    prompts = [m for m in emulator.received if isinstance(m, rf.Prompt)]
    assert prompts[0].timeout_ds == 300
    assert all(m.prompt_id == prompts[0].prompt_id and m.timeout_ds <= 300 for m in prompts)
    emulator.press(4)
    wait_for(lambda: events.of(EventKind.RATING))
    assert not emulator.lit
    emulator.press(1)  # a second key on the now dark pad
    time.sleep(5 * HEARTBEAT_S)
    assert [e.payload for e in events.of(EventKind.RATING)] == [4]
    assert events.of(EventKind.RATING)[0].device == "ratingpad"
    assert not driver.prompting


def test_keys_while_not_prompted_are_ignored(pad, emulator):
    driver, events = pad
    emulator.press(5)
    time.sleep(3 * HEARTBEAT_S)
    assert events.of(EventKind.RATING) == []
    driver.prompt(30)
    wait_for(lambda: emulator.lit)
    emulator.press(2)
    wait_for(lambda: events.of(EventKind.RATING))
    assert [e.payload for e in events.of(EventKind.RATING)] == [2]


def test_the_pad_timeout_is_reported_once_and_the_light_goes_out(pad, emulator):
    driver, events = pad
    driver.prompt(0.3)
    wait_for(lambda: emulator.lit)
    wait_for(lambda: events.of(EventKind.RATING_TIMEOUT), timeout=3)
    assert not emulator.lit
    emulator.press(3)  # too late
    time.sleep(0.3 + 5 * HEARTBEAT_S)  # past the host's own deadline as well
    assert len(events.of(EventKind.RATING_TIMEOUT)) == 1
    assert events.of(EventKind.RATING) == []


def test_the_host_deadline_reports_a_timeout_when_the_pad_says_nothing(pad, emulator):
    driver, events = pad
    driver.prompt(0.3)
    wait_for(lambda: emulator.lit)
    emulator.silence(True)  # the pad's own TIMEOUT never comes
    started = time.monotonic()
    wait_for(lambda: events.of(EventKind.RATING_TIMEOUT), timeout=3)
    assert time.monotonic() - started < 0.3 + 1.0
    assert len(events.of(EventKind.RATING_TIMEOUT)) == 1


def test_after_cancel_the_pad_goes_dark_and_a_late_key_is_ignored(pad, emulator):
    driver, events = pad
    driver.prompt(30)
    wait_for(lambda: emulator.lit)
    driver.cancel()  # the resident rated on screen
    emulator.press(1)  # the key may cross the CANCEL on the wire
    wait_for(lambda: not emulator.lit)
    time.sleep(5 * HEARTBEAT_S)
    assert events.of(EventKind.RATING) == []
    assert events.of(EventKind.RATING_TIMEOUT) == []
    assert not emulator.lit


def test_unplug_gives_no_device_and_replug_recovers_with_the_prompt_relit(pad, emulator):
    driver, events = pad
    driver.prompt(30)
    wait_for(lambda: emulator.lit)
    emulator.unplug()
    wait_for(lambda: driver.status() is DeviceStatus.NO_DEVICE)
    assert "could not open port" in driver.last_error() or "lost" in driver.last_error()
    emulator.replug()
    wait_for(lambda: driver.status() is DeviceStatus.ONLINE, timeout=5)
    # the prompt outlived the unplug: the driver lights the new pad again
    wait_for(lambda: emulator.lit)
    emulator.press(5)
    wait_for(lambda: events.of(EventKind.RATING))
    assert [e.payload for e in events.of(EventKind.RATING)] == [5]
    statuses = [e.payload for e in events.of(EventKind.STATUS)]
    assert DeviceStatus.NO_DEVICE in statuses and statuses[-1] is DeviceStatus.ONLINE


def test_heartbeat_loss_gives_offline_and_the_pad_coming_back_gives_online(pad, emulator):
    driver, events = pad
    emulator.silence(True)
    started = time.monotonic()
    wait_for(lambda: driver.status() is DeviceStatus.OFFLINE, timeout=3)
    # three missed heartbeats, not one
    assert time.monotonic() - started >= 2 * HEARTBEAT_S
    assert "heartbeat" in driver.last_error()
    emulator.silence(False)
    wait_for(lambda: driver.status() is DeviceStatus.ONLINE, timeout=3)


def test_a_pad_fault_is_a_hardware_error_until_it_clears(pad, emulator):
    driver, _ = pad
    emulator.set_faults(rf.FAULT_KEY)
    wait_for(lambda: driver.status() is DeviceStatus.HARDWARE_ERROR)
    emulator.set_faults(0)
    driver.prompt(30)  # prompting makes the driver poll STATUS
    wait_for(lambda: driver.status() is DeviceStatus.ONLINE, timeout=3)


def test_a_missing_port_is_no_device_and_the_driver_keeps_trying(tmp_path):
    link = tmp_path / "pad"
    driver = SerialRatingPad(str(link), heartbeat_s=HEARTBEAT_S)
    driver.start(Events())
    try:
        wait_for(lambda: driver.status() is DeviceStatus.NO_DEVICE)
        emu = RatingPadEmulator(link)
        emu.start()
        try:
            wait_for(lambda: driver.status() is DeviceStatus.ONLINE, timeout=5)
        finally:
            emu.stop()
    finally:
        driver.stop()


def test_reconnect_reopens_the_port(pad, emulator):
    driver, events = pad
    before = len(emulator.received)
    driver.reconnect()
    # a reopen asks the pad for its version again
    wait_for(lambda: rf.GetVersion() in list(emulator.received)[before:])
    wait_for(lambda: driver.status() is DeviceStatus.ONLINE)


def test_build_simulated_returns_a_driver_wired_to_a_running_emulator():
    driver, emu = simulated.ratingpad(SimulatedDevice(driver="simulated"))
    assert emu is not None
    events = Events()
    driver.start(events)
    try:
        wait_for(lambda: driver.status() is DeviceStatus.ONLINE)
        driver.prompt(30)
        wait_for(lambda: emu.lit)
        emu.press(3)
        wait_for(lambda: events.of(EventKind.RATING))
    finally:
        driver.stop()
        emu.stop()
    assert not Path(emu.port).exists()


def test_build_serial_uses_the_configured_port():
    driver, emu = build(SerialRatingPadConfig(driver="serial", port="/dev/ttyS9", heartbeat_s=2))
    assert emu is None
    assert (driver.port, driver.baud, driver.heartbeat_s) == ("/dev/ttyS9", 9600, 2)


def test_stop_leaves_no_thread_behind(emulator):
    before = threading.active_count()
    driver = SerialRatingPad(emulator.port, heartbeat_s=HEARTBEAT_S)
    driver.start(Events())
    wait_for(lambda: driver.status() is DeviceStatus.ONLINE)
    assert threading.active_count() == before + 1
    driver.stop()
    driver.stop()  # idempotent
    assert threading.active_count() == before


# --- the technician command, as a real subprocess ------------------------------------------


def _kiosk(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "device", "ratingpad", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=ROOT,
    )


def test_cli_prints_the_rating_as_json(emulator):
    proc = _kiosk("--port", emulator.port, "--timeout", "20")
    try:
        wait_for(lambda: emulator.lit, timeout=20)
        emulator.press(4)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert json.loads(out) == {"level": 4, "label_zh": "满意", "label_en": "Satisfied"}


def test_cli_prints_timeout_when_nobody_presses(emulator):
    proc = _kiosk("--port", emulator.port, "--timeout", "0.5")
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert json.loads(out) == {"timeout": True}


def test_cli_fails_clearly_without_a_device(tmp_path):
    proc = _kiosk("--port", str(tmp_path / "missing"), "--connect-timeout", "0.5")
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert out == ""
    assert "no rating pad answers on" in err and "missing" in err


def test_a_lost_prompt_is_sent_again_so_the_pad_lights_up(pad, emulator):
    driver, events = pad
    emulator.silence(True)  # the PROMPT frame is lost on the way
    driver.prompt(30)
    time.sleep(3 * HEARTBEAT_S)
    assert not emulator.lit
    emulator.silence(False)
    # the next heartbeat's GET_STATUS finds the pad dark and the driver prompts again
    wait_for(lambda: emulator.lit, timeout=3)
    emulator.press(3)
    wait_for(lambda: events.of(EventKind.RATING))
    assert [e.payload for e in events.of(EventKind.RATING)] == [3]


def test_the_emulated_pad_answers_a_corrupt_frame_with_a_checksum_error(emulator):
    import serial

    with serial.Serial(emulator.port, 9600, timeout=1) as port:
        frame = bytearray(rf.encode(rf.Ping(1)))
        frame[-1] ^= 0x55
        port.write(bytes(frame) + rf.encode(rf.Ping(2)))
        parser = rf.FrameParser()
        got: list[rf.Message] = []
        deadline = time.monotonic() + 3
        while len(got) < 2 and time.monotonic() < deadline:
            got += [rf.parse_message(f) for f in parser.feed(port.read(1))]
    assert got == [rf.Error(rf.ErrorCode.CHECKSUM, 0), rf.Pong(2)]


def test_line_noise_cannot_invent_a_rating_or_break_the_link(pad, emulator):
    driver, events = pad
    driver.prompt(30)
    wait_for(lambda: emulator.lit)
    open_id = [m for m in emulator.received if isinstance(m, rf.Prompt)][-1].prompt_id
    corrupt = bytearray(rf.encode(rf.Key(open_id, 5)))  # the right prompt id, a flipped bit
    corrupt[4] ^= 0x01  # level 5 -> 4: only the CRC can tell
    forged = rf.encode(rf.Key(open_id % 255 + 1, 5))  # well-formed, for a prompt not open
    emulator.inject(b"\x00\xff\xa5\x40" + bytes(corrupt) + forged + b"\xa5\x02\x90")
    time.sleep(5 * HEARTBEAT_S)
    assert events.of(EventKind.RATING) == []
    assert driver.status() is DeviceStatus.ONLINE
    assert emulator.lit  # still waiting for the resident
    emulator.press(2)
    wait_for(lambda: events.of(EventKind.RATING))
    assert [e.payload for e in events.of(EventKind.RATING)] == [2]
