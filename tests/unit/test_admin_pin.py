"""The technicians' PIN gate: scrypt hashes, lock-out after too many wrong PINs, and a
lock-out that a restart (a new PinGate on the same data dir), a moved wall clock or a deleted
lock store does not lift. (Many processes guessing at once: tests/integration.)"""

from __future__ import annotations

import logging
import sqlite3

import pytest

from kiosk.admin.pin import PinGate, hash_pin, parse_pin_hash, verify_pin
from kiosk.config import AdminConfig
from kiosk.errors import ConfigError

PIN = "246813"
# hashed once per module: scrypt is deliberately slow
HASH = hash_pin(PIN)


class Clock:
    """The wall clock (``clock()``, ``t``) and the boot clock (``boot()``, ``b``, ``boot_id``):
    time passing moves both; a technician or an attacker moves only the wall clock."""

    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t
        self.b = 5_000.0
        self.boot_id = "boot-1"

    def __call__(self) -> float:
        return self.t

    def boot(self) -> tuple[str, float]:
        return self.boot_id, self.b

    def advance(self, seconds: float) -> None:
        self.t += seconds
        self.b += seconds


def gate(tmp_path, clock, **kw) -> PinGate:
    return PinGate(AdminConfig(pin_hash=HASH, **kw), tmp_path, now=clock, clock=clock.boot)


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
    assert g.locked_until() is None
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
    clock.advance(899)
    locked = g.check(PIN)
    assert locked.kind == "locked" and locked.until == clock.t + 1


def test_the_lock_out_survives_a_restart(tmp_path):
    clock = Clock()
    g = gate(tmp_path, clock)
    for _ in range(5):
        g.check("999999")
    g.close()
    clock.advance(60)
    again = gate(tmp_path, clock)  # the program was restarted
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
    clock.advance(120)
    assert g.locked_until() is None
    assert g.attempts_left() == 5
    assert g.check("000000").attempts_left == 4  # not locked again at once
    assert g.check(PIN).ok


def test_max_attempts_comes_from_the_config(tmp_path):
    g = gate(tmp_path, Clock(), max_attempts=3)
    assert [g.check("000000").kind for _ in range(3)] == ["wrong", "wrong", "locked"]


def lock_out(g: PinGate, n: int = 5) -> None:
    assert [g.check("000000").kind for _ in range(n)][-1] == "locked"


def test_moving_the_wall_clock_forward_does_not_unlock_and_is_logged(tmp_path, caplog):
    clock = Clock()
    g = gate(tmp_path, clock, lockout_s=900)
    lock_out(g)
    clock.t += 10 * 86400  # someone sets the date ten days on
    with caplog.at_level(logging.WARNING, logger="kiosk.admin.pin"):
        result = g.check(PIN)
    assert result.kind == "locked" and not result.checked
    assert result.until == clock.t + 900  # the whole lock-out is still to run
    assert any("wall clock moved +864000 s" in r.getMessage() for r in caplog.records)
    clock.advance(900)  # real time passes
    assert g.check(PIN).ok


def test_moving_the_wall_clock_back_neither_shortens_nor_lengthens_the_lock(tmp_path):
    clock = Clock()
    g = gate(tmp_path, clock, lockout_s=900)
    lock_out(g)
    clock.t -= 86400
    clock.advance(600)
    assert g.locked_until() == clock.t + 300
    clock.advance(300)
    assert g.locked_until() is None and g.check(PIN).ok


def test_a_reboot_during_the_lock_starts_it_again_in_full(tmp_path):
    clock = Clock()
    g = gate(tmp_path, clock, lockout_s=900)
    lock_out(g)
    g.close()
    clock.advance(800)
    clock.boot_id, clock.b = "boot-2", 30.0  # power cycled: the boot clock starts again
    again = gate(tmp_path, clock, lockout_s=900)
    assert again.locked_until() == clock.t + 900
    clock.advance(899)
    assert again.check(PIN).kind == "locked"
    clock.advance(1)
    assert again.check(PIN).ok


def test_a_new_terminal_starts_unlocked_and_writes_nothing_until_an_attempt(tmp_path):
    g = gate(tmp_path, Clock())
    assert g.locked_until() is None and g.attempts_left() == 5
    assert not (tmp_path / "admin.sqlite3.mark").exists()
    assert g.check("000000").kind == "wrong"
    assert (tmp_path / "admin.sqlite3.mark").exists()


def remove_store(folder) -> None:
    for name in ("admin.sqlite3", "admin.sqlite3-wal", "admin.sqlite3-shm"):
        (folder / name).unlink(missing_ok=True)


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (remove_store, "missing although attempts had been recorded"),
        (lambda f: (remove_store(f), (f / "admin.sqlite3").write_bytes(b"")), "empty (0 bytes)"),
        (lambda f: (remove_store(f), (f / "admin.sqlite3").write_bytes(b"not a database" * 200)), "unreadable"),
        (lambda f: (remove_store(f), (f / "admin.sqlite3").mkdir()), "unreadable"),
        (lambda f: sqlite3.connect(f / "admin.sqlite3").execute("DROP TABLE pin_lock"), "unreadable"),
    ],
    ids=["deleted", "zero_bytes", "not_a_database", "a_directory", "table_dropped"],
)
def test_a_lost_lock_store_fails_closed_with_a_reason_then_gives_tries_after_the_lockout(tmp_path, caplog, damage, says):
    clock = Clock()
    g = gate(tmp_path, clock, lockout_s=600)
    assert g.check("000000").kind == "wrong"  # one attempt recorded: the store is in use
    g.close()
    damage(tmp_path)
    with caplog.at_level(logging.ERROR, logger="kiosk.admin.pin"):
        again = gate(tmp_path, clock, lockout_s=600)
    assert any(says in r.getMessage() for r in caplog.records), [r.getMessage() for r in caplog.records]
    result = again.check(PIN)
    assert result.kind == "locked" and not result.checked and says in result.reason
    assert again.locked_until() == clock.t + 600
    again.close()
    assert gate(tmp_path, clock, lockout_s=600).check(PIN).kind == "locked"  # a restart does not help
    clock.advance(600)
    assert gate(tmp_path, clock, lockout_s=600).check(PIN).ok


def test_a_lock_store_from_before_boot_time_carries_its_count_and_lock_over(tmp_path):
    clock = Clock()
    conn = sqlite3.connect(tmp_path / "admin.sqlite3")
    conn.executescript("CREATE TABLE pin_gate (id INTEGER PRIMARY KEY, failures INTEGER, locked_until REAL);"
                       f"INSERT INTO pin_gate VALUES (1, 5, {clock.t + 300});")
    conn.close()
    g = gate(tmp_path, clock, lockout_s=900)
    assert g.locked_until() == clock.t + 300
    clock.advance(300)
    assert g.check(PIN).ok
    assert (tmp_path / "admin.sqlite3.mark").exists()
