"""社会保障卡密码修改 without a reader: the APDUs byte for byte, the status words, the weak-PIN
rules, the virtual card's PIN and the flow's steps against the in-process card slot."""

from __future__ import annotations

import pytest

from kiosk.config import load_config
from kiosk.errors import CardError
from kiosk.hardware import sscard_apdu as sa
from kiosk.hardware.sscard import SocialSecurityCardReader
from kiosk.services.card_pin import PinRefused, weak_pin_reason, wrong_pin_words
from kiosk.services.catalogue import load_catalogue
from kiosk.services.journey import Journey, Ports
from kiosk.sim.demo_data import BY_KEY
from kiosk.sim.sscard_card import DEMO_PIN, PIN_TRIES, card_for
from kiosk.sim.sscard_slot import DirectTransport
from tests.support.fakes import FakeOutbox

ID = "370921195603124027"  # born 1956-03-12


# --- the commands ------------------------------------------------------------------------------


def test_verify_and_change_are_the_pboc_commands():
    assert sa.verify_pin(b"123456") == [0x00, 0x20, 0x00, 0x00, 0x03, 0x12, 0x34, 0x56]
    assert sa.change_pin(b"123456", b"582039") == [0x80, 0x5E, 0x01, 0x00, 0x07, 0x12, 0x34, 0x56, 0xFF,
                                                   0x58, 0x20, 0x39]
    for bad in (b"12345", b"1234567", b"12a456", ""):
        with pytest.raises(ValueError):
            sa.pin_bcd(bad)


def test_status_words_of_the_pin():
    wrong = sa.sw_error(0x63, 0xC2)
    assert isinstance(wrong, sa.WrongPinError) and wrong.tries_left == 2
    assert "2 tries left" in str(wrong)
    assert isinstance(sa.sw_error(0x69, 0x83), sa.CardBlockedError)
    assert "12333" not in wrong_pin_words(wrong)[0] and "2次" in wrong_pin_words(wrong)[0]


def test_the_pin_bytes_are_overwritten_after_the_command():
    sent: list[list[int]] = []

    def transmit(apdu):
        sent.append(apdu)  # the same list object the helper will overwrite afterwards
        return [], 0x90, 0x00

    sa.check_pin(transmit, bytearray(b"123456"))
    assert sent[-1] == [0] * 8  # nothing of the PIN is left in the command once it was sent


# --- the weak-PIN rules ------------------------------------------------------------------------


@pytest.mark.parametrize(("pin", "rule"), [
    (b"12345", "digits"), (b"12a456", "digits"),
    (b"111111", "same"), (b"000000", "same"),
    (b"123456", "sequence"), (b"654321", "sequence"), (b"345678", "sequence"), (b"012345", "sequence"),
    (b"560312", "birth"), (b"031256", "birth"), (b"120356", "birth"),
    (b"124027", "id_tail"),
    (b"582039", ""), (b"135790", ""), (b"121212", ""),
])
def test_weak_new_pins_are_refused_with_their_rule(pin, rule):
    assert weak_pin_reason(bytearray(pin), ID) == rule


def test_the_new_pin_must_differ_from_the_old():
    assert weak_pin_reason(b"582039", ID, old=b"582039") == "unchanged"


# --- the virtual card ---------------------------------------------------------------------------


def reader_with(key: str) -> tuple[SocialSecurityCardReader, DirectTransport]:
    slot = DirectTransport()
    slot.insert(key)
    return SocialSecurityCardReader(slot), slot


def test_the_card_counts_wrong_pins_and_blocks():
    reader, slot = reader_with("wang_jianguo")
    for left in range(PIN_TRIES - 1, -1, -1):
        with pytest.raises(sa.WrongPinError) as wrong:
            reader.run_on_card(lambda t: sa.check_pin(t, b"999999"))
        assert wrong.value.tries_left == left
    with pytest.raises(sa.PinBlockedError):  # blocked: even the right PIN is refused now
        reader.run_on_card(lambda t: sa.check_pin(t, DEMO_PIN))


def test_a_right_pin_restores_the_tries_and_change_keeps_the_new_one():
    reader, slot = reader_with("wang_jianguo")
    with pytest.raises(sa.WrongPinError):
        reader.run_on_card(lambda t: sa.check_pin(t, b"999999"))
    reader.run_on_card(lambda t: sa.check_pin(t, DEMO_PIN))
    assert slot.card.pin_state.tries_left == PIN_TRIES
    reader.run_on_card(lambda t: sa.change_card_pin(t, DEMO_PIN, b"582039"))
    slot.remove()
    slot.insert("wang_jianguo")  # the card comes back: its PIN is still the new one
    reader.run_on_card(lambda t: sa.check_pin(t, b"582039"))
    with pytest.raises(sa.WrongPinError):
        reader.run_on_card(lambda t: sa.check_pin(t, DEMO_PIN))


def test_change_with_a_wrong_old_pin_changes_nothing():
    reader, slot = reader_with("wang_jianguo")
    with pytest.raises(sa.WrongPinError):
        reader.run_on_card(lambda t: sa.change_card_pin(t, b"999999", b"582039"))
    assert slot.card.pin_state.pin == DEMO_PIN and slot.card.pin_state.changes == 0


def test_the_card_refuses_malformed_pin_commands():
    card = card_for("wang_jianguo")
    assert card.handle(bytes(sa.verify_pin(DEMO_PIN)))[-2:] == b"\x69\x85"  # no application selected
    card.handle(bytes(sa.select_application()))
    assert card.handle(bytes([0x00, 0x20, 0x00, 0x00, 0x02, 0x12, 0x34]))[-2:] == b"\x67\x00"
    assert card.handle(bytes([0x00, 0x20, 0x00, 0x00, 0x03, 0x1A, 0x34, 0x56]))[-2:] == b"\x6a\x80"
    assert card.handle(bytes([0x80, 0x5E, 0x01, 0x00, 0x07, 0x12, 0x34, 0x56, 0x00, 0x58, 0x20, 0x39]))[-2:] == b"\x6a\x80"


# --- the flow ---------------------------------------------------------------------------------


class Devices:
    def __init__(self, reader):
        self.reader = reader

    def device(self, name):
        return self.reader if name == "sscard" else None

    def unavailable_reason(self, needs):
        return None


class Journal:
    def __init__(self):
        self.rows = []

    def begin(self, **entry):
        self.rows.append(("begin", entry["status"]))

    def settle(self, **entry):
        self.rows.append(("settle", entry["status"]))
        return True


@pytest.fixture
def pin_flow():
    reader, slot = reader_with("zhang_xiuying")
    journey = Journey(Ports(config=load_config(), catalogue=load_catalogue(), backend=None, outbox=FakeOutbox(),
                            journal=Journal(), devices=Devices(reader), secret=b"k" * 32))
    journey.choose("sscard_password_change")
    journey.proceed()
    card = reader.run_on_card(sa.read_card)
    journey.identify(card, "sscard")
    return journey, slot


def test_the_flow_changes_the_pin_on_the_card_and_forgets_it(pin_flow):
    journey, slot = pin_flow
    flow = journey.flow
    typed = bytearray(DEMO_PIN.encode())
    flow.check_old(typed)
    assert typed == bytearray(6) and flow.step == "new"  # the keypad's copy is overwritten
    with pytest.raises(PinRefused) as weak:
        flow.set_new(bytearray(b"123456"))
    assert weak.value.code == "sequence" and "连续" in weak.value.message_zh
    flow.set_new(bytearray(b"582039"))
    with pytest.raises(PinRefused):
        flow.change(bytearray(b"582093"))  # the second entry differs: back to the new PIN
    assert flow.step == "new"
    flow.set_new(bytearray(b"582039"))
    outcome = flow.change(bytearray(b"582039"))
    assert outcome.ok and outcome.title_zh == "密码修改成功"
    assert slot.card.pin_state.pin == "582039"
    assert flow._old == bytearray() and flow._new == bytearray()
    assert journey.ports.journal.rows == [("begin", "started"), ("settle", "completed")]


def test_a_blocked_pin_sends_the_resident_to_a_counter(pin_flow):
    journey, slot = pin_flow
    slot.card.pin_state.tries_left = 0
    with pytest.raises(sa.PinBlockedError) as blocked:
        journey.flow.check_old(bytearray(DEMO_PIN.encode()))
    outcome = journey.flow.card_refused(blocked.value)
    assert not outcome.ok and "窗口" in outcome.message_zh and "不能解锁" in outcome.message_zh
    assert journey.ports.journal.rows == [("settle", "failed")]


def test_a_swapped_card_is_not_changed_under_the_first_residents_name(pin_flow):
    journey, slot = pin_flow
    slot.insert("wang_jianguo")  # another card in the slot (the journey would end the visit too)
    with pytest.raises(CardError) as swapped:
        journey.flow.check_old(bytearray(DEMO_PIN.encode()))
    assert "已更换" in swapped.value.message_zh
    assert slot.card.pin_state.tries_left == PIN_TRIES  # the other card was never asked


def test_ending_the_visit_wipes_the_pins(pin_flow):
    journey, _slot = pin_flow
    flow = journey.flow
    flow.check_old(bytearray(DEMO_PIN.encode()))
    held = flow._old
    journey.end("cancelled")
    assert held == bytearray(6) or held == bytearray()
    assert BY_KEY["zhang_xiuying"].id_number not in repr(flow.__dict__)
