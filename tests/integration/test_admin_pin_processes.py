"""Many processes guessing the technicians' PIN at once share one count: real processes, one
lock store, at most ``max_attempts`` PINs checked in all before the entry locks."""

from __future__ import annotations

import multiprocessing
import queue
from pathlib import Path

from kiosk.admin.pin import PinGate, hash_pin
from kiosk.config import AdminConfig

PIN = "246813"
GUESSERS = 8
TRIES_EACH = 5


def guess(folder: str, pin_hash: str, barrier, results, tries: int) -> None:
    gate = PinGate(AdminConfig(pin_hash=pin_hash, max_attempts=5, lockout_s=900), Path(folder))
    barrier.wait()  # all at once
    out = []
    for _ in range(tries):
        result = gate.check("000000")
        out.append((result.kind, result.checked))
    gate.close()
    results.put(out)


def test_eight_processes_guessing_at_once_get_five_tries_in_all(tmp_path):
    pin_hash = hash_pin(PIN)
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(GUESSERS), ctx.Queue()
    procs = [ctx.Process(target=guess, args=(str(tmp_path), pin_hash, barrier, results, TRIES_EACH))
             for _ in range(GUESSERS)]
    for p in procs:
        p.start()
    try:
        answers = [results.get(timeout=120) for _ in procs]
    except queue.Empty:
        raise AssertionError("a guessing process did not finish") from None
    finally:
        for p in procs:
            p.join(timeout=30)
    assert all(p.exitcode == 0 for p in procs)
    every = [a for out in answers for a in out]
    assert len(every) == GUESSERS * TRIES_EACH
    checked = [kind for kind, was_checked in every if was_checked]
    # five PINs compared in all (without the shared count: 40); each answered wrong, or locked
    # when another guesser's attempt had locked the entry meanwhile
    assert len(checked) == 5 and set(checked) <= {"wrong", "locked"} and "locked" in checked
    assert all(kind == "locked" for kind, was_checked in every if not was_checked)
    gate = PinGate(AdminConfig(pin_hash=pin_hash, max_attempts=5, lockout_s=900), tmp_path)
    assert gate.check(PIN).kind == "locked"  # even the right PIN, afterwards
