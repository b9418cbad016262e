"""The real ID-card driver and command against the emulated SAM module over a real pty."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.config import SerialIdCard, SimulatedDevice
from kiosk.errors import ConfigError, DeviceNotFoundError, DeviceTimeoutError, ProtocolError
from kiosk.hardware import idcard_frame as f
from kiosk.hardware.base import DeviceStatus, EventKind
from kiosk.hardware.idcard import SerialIdCardReader, build
from kiosk.sim import devices as simulated
from kiosk.sim.idcard_emulator import IdCardEmulator, demo_cards
from tests.support import Events, wait_for

ROOT = Path(__file__).resolve().parents[2]
KIOSK = ROOT / ".venv" / "bin" / "kiosk"
WAIT = 5.0  # generous: other suites share the two cores


@pytest.fixture
def emulator(tmp_path):
    emu = IdCardEmulator(tmp_path).start()
    yield emu
    emu.stop()


@pytest.fixture
def reader(emulator):
    r = SerialIdCardReader(
        emulator.port, poll_interval_s=0.05, timeout_s=0.3, reopen_interval_s=0.1
    )
    yield r
    r.stop()


@pytest.fixture
def events(reader):
    ev = Events()
    reader.start(ev)
    ev.wait(EventKind.STATUS, DeviceStatus.ONLINE)
    return ev


def test_a_placed_card_is_announced_once_with_its_identity(emulator, reader, events):
    emulator.place("liu_yan")
    event = events.wait(EventKind.CARD_PLACED)
    assert event.device == "idcard"
    assert event.payload == emulator.identity("liu_yan")
    assert event.payload.name == "刘䶮"  # the rare character came through the wire intact
    assert reader.current() == event.payload
    assert len(reader.current_read().wlt) == 1024
    later = events.drain(0.5)  # ten more polls: the same card is not announced again
    assert [e for e in later if e.kind == EventKind.CARD_PLACED] == []


def test_removing_the_card_is_announced_and_clears_it(emulator, reader, events):
    emulator.place("hmt_permit")
    events.wait(EventKind.CARD_PLACED)
    emulator.remove()
    events.wait(EventKind.CARD_REMOVED)
    assert reader.current() is None and reader.current_read() is None


def test_each_card_type_reads_over_the_wire(emulator, reader, events):
    for key in ("foreigner_2017", "foreigner_2023", "expired", "zhang_xiuying"):
        emulator.place(key)
        event = events.wait(EventKind.CARD_PLACED)
        assert event.payload == emulator.identity(key)
        emulator.remove()
        events.wait(EventKind.CARD_REMOVED)


def test_a_card_swapped_between_polls_is_announced_as_removed_and_placed(emulator, reader, events):
    emulator.place("chen_ming")
    events.wait(EventKind.CARD_PLACED)
    emulator.place("zhou_fang")  # no poll ever sees an empty field
    # with miss_limit 2 a swap shows up only if the reader re-reads; make one poll miss
    emulator.fault("no_card", count=1)
    event = events.wait(EventKind.CARD_PLACED)
    assert event.payload == emulator.identity("zhou_fang")


def test_fault_no_card_removes_the_card_and_recovers(emulator, reader, events):
    emulator.place("wang_jianguo")
    events.wait(EventKind.CARD_PLACED)
    emulator.fault("no_card")
    events.wait(EventKind.CARD_REMOVED)
    assert reader.status() == DeviceStatus.ONLINE  # the module is fine; the field is empty
    emulator.fault(None)
    assert events.wait(EventKind.CARD_PLACED).payload == emulator.identity("wang_jianguo")


def test_one_damaged_reply_is_asked_again_transparently(emulator, reader, events):
    emulator.place("ma_yumei")
    emulator.fault("bad_checksum", count=1)
    assert events.wait(EventKind.CARD_PLACED).payload == emulator.identity("ma_yumei")
    assert reader.stats["retries"] >= 1
    assert reader.status() == DeviceStatus.ONLINE
    # the damaged reply's request appears twice in a row
    cmds = list(emulator.requests)
    assert any(a == b for a, b in zip(cmds, cmds[1:], strict=False))


@pytest.mark.parametrize(
    ("mode", "status", "text"),
    [
        ("bad_checksum", DeviceStatus.HARDWARE_ERROR, "check byte"),
        ("partial", DeviceStatus.HARDWARE_ERROR, "cut short"),
        ("silence", DeviceStatus.OFFLINE, "no reply"),
    ],
)
def test_a_lasting_fault_sets_a_clear_status_and_recovers(emulator, reader, events, mode, status, text):
    emulator.fault(mode)
    events.wait(EventKind.STATUS, status)
    assert text in reader.last_error()
    assert reader._thread.is_alive()
    emulator.fault(None)
    emulator.place("feng_wei")
    events.wait(EventKind.STATUS, DeviceStatus.ONLINE)
    assert events.wait(EventKind.CARD_PLACED).payload == emulator.identity("feng_wei")


def test_unplug_gives_no_device_and_replug_reads_again(emulator, reader, events):
    emulator.place("guo_qiang")
    events.wait(EventKind.CARD_PLACED)
    emulator.unplug()
    events.wait(EventKind.STATUS, DeviceStatus.NO_DEVICE)
    assert not os.path.exists(emulator.port)
    emulator.remove()
    events.drain(0.3)  # several failed reopen attempts: the thread must live through them
    assert reader._thread.is_alive() and reader.status() == DeviceStatus.NO_DEVICE
    emulator.replug()
    events.wait(EventKind.STATUS, DeviceStatus.ONLINE)
    events.wait(EventKind.CARD_REMOVED)  # the card went while the reader was away
    emulator.place("he_jing")
    assert events.wait(EventKind.CARD_PLACED).payload == emulator.identity("he_jing")
    assert reader.stats["reopens"] >= 2


def test_a_card_left_in_place_over_an_unplug_is_not_announced_twice(emulator, reader, events):
    emulator.place("gao_junjie")
    events.wait(EventKind.CARD_PLACED)
    emulator.unplug()
    events.wait(EventKind.STATUS, DeviceStatus.NO_DEVICE)
    emulator.replug()
    events.wait(EventKind.STATUS, DeviceStatus.ONLINE)
    later = events.drain(0.5)
    assert [e.kind for e in later if e.kind in (EventKind.CARD_PLACED, EventKind.CARD_REMOVED)] == []
    assert reader.current() == emulator.identity("gao_junjie")


def test_a_card_with_bad_data_is_reported_and_the_reader_stays_online(tmp_path):
    good = demo_cards()["luo_cheng"]
    bad = dataclasses.replace(good, id_number=good.id_number[:17] + ("0" if good.id_number[17] != "0" else "1"))
    with IdCardEmulator(tmp_path, cards={"bad": bad, "good": good}) as emu:
        reader = SerialIdCardReader(emu.port, poll_interval_s=0.05, timeout_s=0.3)
        ev = Events()
        reader.start(ev)
        try:
            emu.place("bad")
            error = ev.wait(EventKind.ERROR)
            assert "check digit" in error.payload and bad.id_number not in error.payload
            assert reader.status() == DeviceStatus.ONLINE and reader.current() is None
            later = ev.drain(0.5)  # re-read every poll, reported once
            assert [e for e in later if e.kind == EventKind.ERROR] == []
            emu.place("good")
            assert ev.wait(EventKind.CARD_PLACED).payload == good
        finally:
            reader.stop()


def test_reconnect_reopens_the_port(emulator, reader, events):
    before = reader.stats["reopens"]
    reader.reconnect()
    wait_for(lambda: reader.stats["reopens"] != before, WAIT)
    assert reader.stats["reopens"] == before + 1
    emulator.place("lin_xiaohong")
    events.wait(EventKind.CARD_PLACED)


def test_stop_is_prompt_and_idempotent(emulator, reader, events):
    started = time.monotonic()
    reader.stop()
    reader.stop()
    assert time.monotonic() - started < 1.0
    assert reader._thread is None


# --- read_once -------------------------------------------------------------------------------


def test_read_once_waits_for_a_card(emulator):
    reader = SerialIdCardReader(emulator.port, poll_interval_s=0.05, timeout_s=0.3)
    emulator.place("ouyang_na")
    assert reader.read_once(2) == emulator.identity("ouyang_na")


def test_read_once_with_the_thread_running_returns_the_card(emulator, reader, events):
    emulator.place("zhu_dehua")
    assert reader.read_once(WAIT) == emulator.identity("zhu_dehua")


def test_read_once_times_out_without_a_card(emulator):
    reader = SerialIdCardReader(emulator.port, poll_interval_s=0.05, timeout_s=0.3)
    started = time.monotonic()
    with pytest.raises(DeviceTimeoutError, match="no card was read"):
        reader.read_once(0.5)
    assert time.monotonic() - started < 1.5


def test_read_once_reports_lasting_damage_as_a_protocol_error(emulator):
    reader = SerialIdCardReader(emulator.port, timeout_s=0.3)
    emulator.place("zhao_li")
    emulator.fault("bad_checksum")
    with pytest.raises(ProtocolError, match="after 3 attempts"):
        reader.read_once(2)


def test_a_second_user_of_the_port_is_refused_while_the_reader_runs(emulator, reader, events):
    with pytest.raises(DeviceNotFoundError, match="exclusively lock"):
        SerialIdCardReader(emulator.port).read_once(0.5)
    assert reader.status() == DeviceStatus.ONLINE


def test_read_once_on_a_missing_port_says_so(tmp_path):
    with pytest.raises(DeviceNotFoundError, match="cannot open"):
        SerialIdCardReader(str(tmp_path / "nothing")).read_once(0.5)


def test_pacing_makes_the_read_reply_take_its_wire_time(tmp_path):
    with IdCardEmulator(tmp_path, pace_baud=115200) as emu:
        emu.place("wu_haitao")
        reader = SerialIdCardReader(emu.port)
        port = reader._open()
        try:
            reader._transact(port, f.FIND_CARD, "find")
            reader._transact(port, f.SELECT_CARD, "select")
            started = time.monotonic()
            reply = reader._transact(port, f.READ_TEXT_PHOTO, "read")
            took = time.monotonic() - started
        finally:
            port.close()
    assert len(reply.data) == 1284
    assert 0.105 <= took < 0.5  # 1,295 bytes x 10 bits / 115200 = 112 ms


# --- build -----------------------------------------------------------------------------------


def test_build_simulated_starts_an_emulator_and_points_the_driver_at_it(tmp_path):
    reader, emu = simulated.idcard(SimulatedDevice(driver="simulated", pace_baud=115200), link_dir=str(tmp_path))
    try:
        assert emu is not None and emu.pace_baud == 115200
        assert reader.port == emu.port and os.path.islink(emu.port)
        emu.place("li_guilan")
        assert reader.read_once(3) == emu.identity("li_guilan")
    finally:
        reader.stop()
        emu.stop()


def test_the_hardware_module_builds_no_simulated_reader():
    with pytest.raises(ConfigError, match="simulated"):
        build(SimulatedDevice(driver="simulated"))


def test_build_serial_takes_the_configured_port_and_timing():
    cfg = SerialIdCard(driver="serial", port="/dev/ttyUSB7", baud=57600, poll_interval_s=0.5, timeout_s=2)
    reader, emu = build(cfg)
    assert emu is None
    assert (reader.port, reader.baud, reader.poll_interval_s, reader.timeout_s) == ("/dev/ttyUSB7", 57600, 0.5, 2)


def test_a_faster_poll_keeps_the_time_a_card_must_be_missing_before_it_is_removed():
    assert SerialIdCard(driver="serial", port="/dev/ttyUSB0").poll_interval_s == 0.1  # the config's default
    for poll, misses in ((0.1, 6), (0.05, 12), (0.3, 2), (0.5, 2)):  # never fewer than two
        assert SerialIdCardReader("/dev/ttyUSB0", poll_interval_s=poll).miss_limit == misses
    assert SerialIdCardReader("/dev/ttyUSB0", miss_limit=3).miss_limit == 3  # asked for: as asked


def test_a_card_lifted_for_less_than_the_removal_time_is_not_removed(emulator):
    ev = Events()
    reader = SerialIdCardReader(emulator.port, poll_interval_s=0.05, timeout_s=0.3)
    reader.start(ev)
    try:
        emulator.place("liu_yan")
        ev.wait(EventKind.CARD_PLACED)
        emulator.remove()
        time.sleep(0.25)  # five misses of the twelve that make 0.6 s
        emulator.place("liu_yan")
        later = ev.drain(0.5)
        assert [e.kind for e in later if e.kind in (EventKind.CARD_PLACED, EventKind.CARD_REMOVED)] == []
        assert reader.current() == emulator.identity("liu_yan")
    finally:
        reader.stop()


# --- the command -------------------------------------------------------------------------------


def _kiosk(*args: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    exe = [str(KIOSK)] if KIOSK.exists() else [sys.executable, "-m", "kiosk.cli"]
    env = {**os.environ, "TMPDIR": os.environ.get("TMPDIR", "/tmp")}
    return subprocess.run([*exe, *args], capture_output=True, text=True, timeout=timeout, env=env)


def test_the_command_prints_one_masked_json_record(emulator):
    emulator.place("zhang_xiuying")
    card = emulator.identity("zhang_xiuying")
    done = _kiosk("device", "idcard", "--port", emulator.port, "--timeout", "5")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["card_type"] == "resident"
    assert out["id_number"] == "370***********4027" == card.masked_id
    assert out["name"] == "张**"
    assert out["sex"] == "2" and out["birth_date"] == "1956-03-12"
    assert out["valid_to"] == "长期"
    assert card.id_number not in done.stdout and card.name not in done.stdout
    assert card.address not in done.stdout


def test_the_command_reveals_only_when_asked(emulator):
    emulator.place("hu_xiaoyan")
    card = emulator.identity("hu_xiaoyan")
    done = _kiosk("device", "idcard", "--port", emulator.port, "--timeout", "5", "--reveal")
    out = json.loads(done.stdout)
    assert (out["id_number"], out["name"], out["address"]) == (card.id_number, card.name, card.address)
    assert out["valid_to"] == card.valid_to.isoformat()


def test_the_command_fails_clearly_on_timeout(emulator):
    done = _kiosk("device", "idcard", "--port", emulator.port, "--timeout", "0.5")
    assert done.returncode != 0
    assert done.stdout == ""
    assert "no card was read" in done.stderr and "0.5 s" in done.stderr


def test_the_command_fails_clearly_on_a_protocol_error(emulator):
    emulator.place("liang_jianping")
    emulator.fault("partial")
    done = _kiosk("device", "idcard", "--port", emulator.port, "--timeout", "3")
    assert done.returncode != 0
    assert "cut short" in done.stderr
