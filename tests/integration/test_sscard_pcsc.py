"""The social-security-card reader against a real pcscd, vsmartcard's vpcd and the Python card.

Everything real except the card: pyscard -> libpcsclite -> pcscd (private, started here) ->
libifdvpcd -> TCP -> ``VpcdCardSlot`` -> ``VirtualSsCard``. The DirectTransport tests at the
end run without pcscd, the way demo mode does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.config import PcscSsCard, SimulatedDevice
from kiosk.errors import CardRemovedError, DeviceNotFoundError, NoCardError
from kiosk.hardware import sscard_apdu as sa
from kiosk.hardware.base import DeviceStatus, EventKind
from kiosk.hardware.sscard import PcscServiceError, SocialSecurityCardReader, build
from kiosk.hardware.sscard_apdu import FileNotFoundOnCardError, PinBlockedError, WrongPinError
from kiosk.hardware.sscard_pcsc import PcscTransport
from kiosk.identity import SocialSecurityCard
from kiosk.sim import devices as simulated
from kiosk.sim.demo_data import BY_KEY
from kiosk.sim.sscard_card import DEMO_PIN, PIN_BLOCKED, PIN_TRIES
from kiosk.sim.sscard_slot import DirectTransport
from kiosk.sim.vpcd_card import VpcdCardSlot
from tests.support import Events, wait_for
from tests.support.pcscd import PrivatePcscd, pcscd_fixture

ROOT = Path(__file__).resolve().parents[2]
pcscd = pcscd_fixture("module")


def assert_is(card: SocialSecurityCard, key: str) -> None:
    r = BY_KEY[key]
    assert card.card_number == r.sscard_number
    assert card.identity.name == r.name
    assert card.identity.id_number == r.id_number
    assert card.identity.birth_date == r.birth_date


@pytest.fixture
def slot(pcscd: PrivatePcscd):
    s = VpcdCardSlot(pcscd.port).start()
    yield s
    s.stop()
    wait_for(lambda: not pcscd.card_present(), what="pcscd to see the card leave")  # before the next test inserts one


@pytest.fixture
def reader():
    r = SocialSecurityCardReader(PcscTransport("Kiosk Test VPCD 00 00"), retry_s=0.2)
    yield r
    r.stop()


# --- reads ---------------------------------------------------------------------------------


@pytest.mark.pcsc
@pytest.mark.parametrize("key", ["zhang_xiuying", "liu_yan", "ma_yumei", "ayigul"])
def test_demo_cards_are_read_through_pcscd(slot, key):
    slot.insert(key)
    card = SocialSecurityCardReader(PcscTransport()).read_once(5.0)
    assert_is(card, key)
    assert card.identity.nation == BY_KEY[key].nation


@pytest.mark.pcsc
def test_insert_and_remove_give_events_and_current(slot, reader):
    events = Events()
    reader.start(events)
    events.wait(EventKind.STATUS, payload=DeviceStatus.ONLINE)
    assert reader.current() is None
    slot.insert("wang_jianguo")
    placed = events.wait(EventKind.CARD_PLACED)
    assert_is(placed.payload, "wang_jianguo")
    assert reader.current() is placed.payload
    slot.remove()
    events.wait(EventKind.CARD_REMOVED)
    assert reader.current() is None
    slot.insert("zhou_fang")  # the next resident
    assert_is(events.wait(EventKind.CARD_PLACED).payload, "zhou_fang")
    assert reader.status() is DeviceStatus.ONLINE


@pytest.mark.pcsc
def test_a_card_already_present_at_start_is_read(pcscd, slot, reader):
    slot.insert("li_guilan")
    assert slot.wait_connected(3)
    wait_for(pcscd.card_present, what="pcscd to power the card up")  # no insertion event will come
    events = Events()
    reader.start(events)
    assert_is(events.wait(EventKind.CARD_PLACED).payload, "li_guilan")


@pytest.mark.pcsc
def test_the_error_card_gives_a_clear_card_error(slot, reader):
    slot.insert("error_card")
    with pytest.raises(FileNotFoundOnCardError) as info:
        reader.read_once(5.0)
    assert info.value.sw == 0x6A82
    assert "社会保障卡" in info.value.message_zh
    events = Events()
    reader.start(events)
    error = events.wait(EventKind.ERROR)
    assert "6A82" in error.payload
    assert isinstance(reader.last_read_error, FileNotFoundOnCardError)
    assert reader.current() is None
    assert reader.status() is DeviceStatus.ONLINE  # the reader is fine, the card is not


@pytest.mark.pcsc
def test_a_card_pulled_mid_read_is_card_removed_then_the_next_card_reads(slot, reader):
    slot.insert("pulled_card")
    with pytest.raises(CardRemovedError):
        reader.read_once(5.0)
    slot.insert("gao_junjie")
    assert_is(reader.read_once(5.0), "gao_junjie")
    # and the same with the monitor running
    events = Events()
    reader.start(events)
    events.wait(EventKind.CARD_PLACED)
    slot.insert("pulled_card")
    events.wait(EventKind.CARD_REMOVED)  # gao_junjie left
    assert "removed during the read" in events.wait(EventKind.ERROR).payload
    events.wait(EventKind.CARD_REMOVED)  # the pulled card is gone too
    slot.insert("hu_xiaoyan")
    assert_is(events.wait(EventKind.CARD_PLACED).payload, "hu_xiaoyan")


@pytest.mark.pcsc
def test_no_card_within_the_timeout_is_no_card_error(slot):
    started = time.monotonic()
    with pytest.raises(NoCardError):
        SocialSecurityCardReader(PcscTransport()).read_once(0.6)
    assert time.monotonic() - started < 3


@pytest.mark.pcsc
def test_a_reader_name_that_matches_nothing_is_no_device(pcscd):
    with pytest.raises(DeviceNotFoundError, match="no PC/SC reader matching 'ACS'"):
        SocialSecurityCardReader(PcscTransport("ACS")).read_once(0.3)


# --- the command ---------------------------------------------------------------------------


def run_cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "device", "sscard", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
    )


@pytest.mark.pcsc
def test_cli_prints_one_masked_json_object(slot):
    r = BY_KEY["liu_yan"]
    slot.insert("liu_yan")
    done = run_cli("--timeout", "5")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["card_number"] == "*****2103"
    assert out["id_number"] == r.id_number[:3] + "*" * 11 + r.id_number[-4:]
    assert out["name"] == "刘*"
    assert "birth_date" not in out
    assert r.id_number not in done.stdout and r.name not in done.stdout
    assert out["issue_date"] and out["expiry_date"] > out["issue_date"]


@pytest.mark.pcsc
def test_cli_reveal_prints_the_full_data(slot):
    r = BY_KEY["liu_yan"]
    slot.insert("liu_yan")
    done = run_cli("--timeout", "5", "--reveal")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert (out["card_number"], out["id_number"], out["name"]) == (
        r.sscard_number,
        r.id_number,
        r.name,
    )


@pytest.mark.pcsc
def test_cli_timeout_and_unknown_reader_exit_non_zero(slot):
    done = run_cli("--timeout", "0.5")
    assert done.returncode == 1 and "no card was placed" in done.stderr
    done = run_cli("--timeout", "0.5", "--reader", "NoSuchReader")
    assert done.returncode == 1 and "no PC/SC reader matching 'NoSuchReader'" in done.stderr


# --- pcscd going away and the reader going away ----------------------------------------------


@pytest.mark.pcsc
def test_reader_survives_pcscd_killed_and_restarted(pcscd, slot, reader):
    events = Events()
    reader.start(events)
    slot.insert("wu_haitao")
    assert_is(events.wait(EventKind.CARD_PLACED).payload, "wu_haitao")
    thread = reader._thread

    pcscd.kill()  # a crash: its /run/pcscd files stay behind
    events.wait(EventKind.CARD_REMOVED)
    events.wait(EventKind.STATUS, payload=DeviceStatus.OFFLINE)
    assert "pcscd" in reader.last_error()
    time.sleep(0.6)  # a few failed reconnects
    assert reader.status() is DeviceStatus.OFFLINE and thread.is_alive()

    done = run_cli("--timeout", "1")  # the CLI says what is wrong
    assert done.returncode == 1
    assert "PC/SC service (pcscd) is not running" in done.stderr and "0x8010001D" in done.stderr

    pcscd.start()  # stale files cleaned, same port: the card program reconnects by itself
    events.wait(EventKind.STATUS, payload=DeviceStatus.ONLINE, timeout=10)
    assert_is(events.wait(EventKind.CARD_PLACED, timeout=10).payload, "wu_haitao")
    assert reader._thread is thread and thread.is_alive()  # the same thread, a new context


@pytest.mark.pcsc
def test_reader_unplugged_is_no_device_until_it_comes_back(pcscd, slot, reader):
    events = Events()
    reader.start(events)
    events.wait(EventKind.STATUS, payload=DeviceStatus.ONLINE)
    pcscd.restart(with_reader=False)  # pcscd up, no reader at all
    try:
        events.wait(EventKind.STATUS, payload=DeviceStatus.NO_DEVICE, timeout=10)
        # the first failed call after the restart may name a PC/SC error; the next names the reader
        wait_for(lambda: "no PC/SC reader" in reader.last_error(), what="the missing reader as the reason")
        assert reader.status() is DeviceStatus.NO_DEVICE
    finally:
        pcscd.restart(with_reader=True)  # the module's later tests need the reader back
    events.wait(EventKind.STATUS, payload=DeviceStatus.ONLINE, timeout=10)
    slot.insert("zheng_shuzhen")
    assert_is(events.wait(EventKind.CARD_PLACED, timeout=10).payload, "zheng_shuzhen")


@pytest.mark.pcsc
def test_reconnect_rebuilds_the_context_and_keeps_reading(slot, reader):
    events = Events()
    reader.start(events)
    slot.insert("feng_wei")
    events.wait(EventKind.CARD_PLACED)
    reader.reconnect()
    slot.remove()
    events.wait(EventKind.CARD_REMOVED)
    slot.insert("guo_qiang")
    assert_is(events.wait(EventKind.CARD_PLACED).payload, "guo_qiang")


# --- the card's PIN, checked and changed by the card (社会保障卡密码修改) ---------------------------


@pytest.mark.pcsc
def test_the_pin_is_checked_and_changed_by_the_card_while_the_monitor_runs(slot, reader):
    events = Events()
    reader.start(events)
    slot.insert("zhang_xiuying")
    placed = events.wait(EventKind.CARD_PLACED)
    with pytest.raises(WrongPinError) as wrong:  # 63C2 from the card, through pcscd
        reader.run_on_card(lambda t: sa.check_pin(t, b"999999"))
    assert wrong.value.sw == 0x63C2 and wrong.value.tries_left == 2
    reader.run_on_card(lambda t: sa.check_pin(t, DEMO_PIN))  # right: the tries are back
    reader.run_on_card(lambda t: sa.change_card_pin(t, DEMO_PIN, b"582039"))
    assert slot.card.pin_state.pin == "582039" and slot.card.pin_state.tries_left == PIN_TRIES
    reader.run_on_card(lambda t: sa.check_pin(t, b"582039"))
    # the monitor went on watching: the same card, read once, still current
    assert reader.current() is placed.payload and reader.reads == 1
    assert reader.status() is DeviceStatus.ONLINE
    slot.remove()
    events.wait(EventKind.CARD_REMOVED)
    with pytest.raises(NoCardError):
        reader.run_on_card(lambda t: sa.check_pin(t, b"582039"))


@pytest.mark.pcsc
def test_a_blocked_pin_answers_6983_through_pcscd(slot):
    slot.insert(PIN_BLOCKED)
    reader = SocialSecurityCardReader(PcscTransport())
    reader.read_once(5.0)  # pcscd has the card now
    with pytest.raises(PinBlockedError) as blocked:
        reader.run_on_card(lambda t: sa.check_pin(t, DEMO_PIN))
    assert blocked.value.sw == 0x6983 and "窗口" in blocked.value.message_zh


@pytest.mark.pcsc
def test_the_pin_change_flow_end_to_end_through_pcscd(slot, reader):
    """The item's flow (old PIN, new PIN twice) against the card behind the real pcscd."""
    from kiosk.config import load_config
    from kiosk.services.card_pin import PinRefused
    from kiosk.services.catalogue import load_catalogue
    from kiosk.services.journey import Journey, Ports

    class Devices:
        def device(self, name):
            return reader if name == "sscard" else None

        def unavailable_reason(self, needs):
            return None

    class Journal:
        rows: list = []

        def begin(self, **entry):
            self.rows.append(entry["status"])

        def settle(self, **entry):
            self.rows.append(entry["status"])

    events = Events()
    reader.start(events)
    slot.insert("wang_jianguo")
    card = events.wait(EventKind.CARD_PLACED).payload
    from tests.support.fakes import FakeOutbox

    journey = Journey(Ports(config=load_config(), catalogue=load_catalogue(), backend=None, outbox=FakeOutbox(),
                            journal=Journal(), devices=Devices(), secret=b"k" * 32))
    journey.choose("sscard_password_change")
    journey.proceed()
    journey.identify(card, "sscard")
    flow = journey.flow
    with pytest.raises(WrongPinError):
        flow.check_old(bytearray(b"000000"))
    flow.check_old(bytearray(DEMO_PIN.encode()))
    with pytest.raises(PinRefused):
        flow.set_new(bytearray(BY_KEY["wang_jianguo"].id_number[8:14].encode()))  # the birth date
    flow.set_new(bytearray(b"730915"))
    outcome = flow.change(bytearray(b"730915"))
    assert outcome.ok and slot.card.pin_state.pin == "730915" and slot.card.pin_state.changes == 1
    assert journey.ports.journal.rows == ["started", "completed"]


@pytest.mark.pcsc
def test_without_pcscd_the_transport_says_pcscd_is_not_running(pcscd):
    pcscd.stop()
    try:
        transport = PcscTransport()
        with pytest.raises(PcscServiceError, match=r"pcscd\) is not running.*0x8010001D"):
            transport.open()
    finally:
        pcscd.start()


# --- demo mode: the same reader logic on the in-process card -------------------------------------


def test_direct_transport_reads_and_reports_like_the_real_one():
    reader, emulator = simulated.sscard(SimulatedDevice(driver="simulated"))
    assert isinstance(emulator, DirectTransport)
    events = Events()
    reader.start(events)
    try:
        events.wait(EventKind.STATUS, payload=DeviceStatus.ONLINE)
        emulator.insert("ouyang_na")
        assert_is(events.wait(EventKind.CARD_PLACED).payload, "ouyang_na")
        emulator.insert("error_card")  # swap without a gap: old card removed, new one read
        events.wait(EventKind.CARD_REMOVED)
        assert "6A82" in events.wait(EventKind.ERROR).payload
        emulator.insert("pulled_card")
        assert "removed" in events.wait(EventKind.ERROR).payload
        events.wait(EventKind.CARD_REMOVED)
        assert emulator.card is None
        emulator.unplug()
        events.wait(EventKind.STATUS, payload=DeviceStatus.NO_DEVICE)
        emulator.plug()
        events.wait(EventKind.STATUS, payload=DeviceStatus.ONLINE)
        emulator.insert("luo_cheng")
        assert_is(events.wait(EventKind.CARD_PLACED).payload, "luo_cheng")
        assert_is(reader.read_once(1.0), "luo_cheng")  # with the monitor: its current card
        emulator.remove()
        events.wait(EventKind.CARD_REMOVED)
    finally:
        reader.stop()
    assert reader.status() is DeviceStatus.OFFLINE


def test_direct_transport_read_once_without_a_monitor():
    reader, emulator = simulated.sscard(SimulatedDevice(driver="simulated"))
    emulator.insert("he_jing")
    assert_is(reader.read_once(1.0), "he_jing")
    emulator.remove()
    with pytest.raises(NoCardError):
        reader.read_once(0.2)


def test_build_for_pcsc_makes_a_pcsc_reader_without_emulator():
    reader, emulator = build(PcscSsCard(driver="pcsc", reader="ACS"))
    assert emulator is None
    assert isinstance(reader.transport, PcscTransport)
    assert reader.transport.reader_filter == "ACS"
    assert reader.name == "sscard"


@pytest.mark.pcsc
def test_the_card_program_runs_as_a_command(pcscd):
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk.sim.vpcd_card", "--port", str(pcscd.port)]
        + ["--card", "sun_zhiqiang"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert "sun_zhiqiang" in proc.stdout.readline()
        assert_is(SocialSecurityCardReader(PcscTransport()).read_once(5.0), "sun_zhiqiang")
    finally:
        proc.terminate()
        assert proc.wait(5) == 0
    wait_for(lambda: not pcscd.card_present(), what="pcscd to see the card leave")
    with pytest.raises(NoCardError):
        SocialSecurityCardReader(PcscTransport()).read_once(0.3)


def test_demo_mode_works_on_a_machine_without_pyscard():
    code = (
        "import sys; sys.modules['smartcard'] = None\n"
        "from kiosk.config import SimulatedDevice\n"
        "from kiosk.sim.devices import sscard\n"
        "reader, emu = sscard(SimulatedDevice(driver='simulated'))\n"
        "emu.insert('zhu_dehua')\n"
        "print(reader.read_once(1.0).card_number)\n"
        "from kiosk.hardware.sscard_pcsc import PcscTransport\n"
        "print(PcscTransport.is_usable())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [BY_KEY["zhu_dehua"].sscard_number, "False"]
