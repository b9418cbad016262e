"""The technicians' PIN gate: scrypt hashes, lock-out after too many wrong PINs, and a
lock-out that a restart (a new PinGate on the same data dir) does not lift."""

from __future__ import annotations

import pytest

from kiosk.admin.pin import PinGate, hash_pin, parse_pin_hash, verify_pin
from kiosk.config import AdminConfig
from kiosk.errors import ConfigError

PIN = "246813"
# hashed once per module: scrypt is deliberately slow
HASH = hash_pin(PIN)


class Clock:
    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def gate(tmp_path, clock, **kw) -> PinGate:
    return PinGate(AdminConfig(pin_hash=HASH, **kw), tmp_path, now=clock)


def test_hash_has_the_documented_format_and_a_random_salt():
    a, b = hash_pin(PIN), hash_pin(PIN)
    assert a.startswith("scrypt$16384$8$1$") and len(a.split("$")) == 6
    assert a != b  # the salt differs
    assert verify_pin(PIN, a) and verify_pin(PIN, b)
    assert not verify_pin("246814", a)


@pytest.mark.parametrize("pin", ["12345", "123456789", "12a456", "", "１２３４５６", "123456\n"])
def test_only_six_to_eight_digits_can_be_hashed(pin):
    with pytest.raises(ValueError):
        hash_pin(pin)


@pytest.mark.parametrize("bad", ["", "md5$abc", "scrypt$16384$8$1$!!$!!", "scrypt$1000$8$1$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA==",
                                 "scrypt$4194304$8$1$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA=="])
def test_a_malformed_hash_is_a_config_error(bad, tmp_path):
    with pytest.raises(ConfigError, match="admin.pin_hash"):
        parse_pin_hash(bad)
    if bad:
        with pytest.raises(ConfigError):
            PinGate(AdminConfig(pin_hash=bad), tmp_path)


def test_right_pin_opens(tmp_path):
    result = gate(tmp_path, Clock()).check(PIN)
    assert result.ok and result.kind == "ok"


def test_no_pin_set_never_opens(tmp_path):
    g = PinGate(AdminConfig(), tmp_path)
    assert g.check("000000").kind == "not_set"
    assert g.check("").kind == "not_set"


def test_wrong_pin_counts_down_and_a_right_one_resets(tmp_path):
    g = gate(tmp_path, Clock())
    assert [g.check("111111").attempts_left for _ in range(3)] == [4, 3, 2]
    assert g.check("111111").kind == "wrong"
    assert g.check(PIN).ok
    assert g.check("111111").attempts_left == 4  # the count starts again after a success


def test_five_wrong_pins_lock_even_the_right_pin_out(tmp_path):
    clock = Clock()
    g = gate(tmp_path, clock, lockout_s=900)
    results = [g.check("000000") for _ in range(5)]
    assert [r.kind for r in results] == ["wrong"] * 4 + ["locked"]
    assert results[-1].until == clock.t + 900
    assert g.locked_until() == clock.t + 900
    clock.t += 899
    locked = g.check(PIN)
    assert locked.kind == "locked" and locked.until == clock.t + 1


def test_the_lock_out_survives_a_restart(tmp_path):
    clock = Clock()
    g = gate(tmp_path, clock)
    for _ in range(5):
        g.check("999999")
    g.close()
    clock.t += 60
    again = gate(tmp_path, clock)  # the terminal was power-cycled
    assert again.locked_until() == clock.t - 60 + 900
    assert again.check(PIN).kind == "locked"


def test_wrong_attempts_survive_a_restart_too(tmp_path):
    clock = Clock()
    g = gate(tmp_path, clock)
    for _ in range(3):
        g.check("999999")
    g.close()
    again = gate(tmp_path, clock)
    assert again.attempts_left() == 2
    assert again.check("999999").attempts_left == 1


def test_unlocks_after_the_lockout_time_with_a_fresh_set_of_tries(tmp_path):
    clock = Clock()
    g = gate(tmp_path, clock, lockout_s=120)
    for _ in range(5):
        g.check("000000")
    clock.t += 120
    assert g.locked_until() is None
    assert g.attempts_left() == 5
    assert g.check("000000").attempts_left == 4  # not locked again at once
    assert g.check(PIN).ok


def test_max_attempts_comes_from_the_config(tmp_path):
    g = gate(tmp_path, Clock(), max_attempts=3)
    assert [g.check("000000").kind for _ in range(3)] == ["wrong", "wrong", "locked"]
