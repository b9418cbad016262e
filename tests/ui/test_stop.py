"""Stopping the kiosk: SIGTERM (systemctl stop, the nightly restart) and SIGINT (Ctrl-C) stop
it within 5 s with exit 0, its devices released and its outbox consistent, while closing the
window and Escape stay refused. Also: ``kiosk demo`` gives the same result every time it runs
on one machine (it starts from fresh demo data).

SDL used to turn both signals into a window-close request, which the kiosk refused, so
systemd waited for its stop timeout and then killed it.
"""

from __future__ import annotations

import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.support import HALF_SIZE, write_config

pytestmark = pytest.mark.ui

HELD = "KIOSK_TOUR lockdown held"
ROOT = Path(__file__).resolve().parents[2]


def start(args: list[str]) -> tuple[subprocess.Popen, queue.Queue]:
    env = dict(os.environ)
    env.pop("DISPLAY", None)
    proc = subprocess.Popen([sys.executable, "-m", "kiosk.cli", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines: queue.Queue = queue.Queue()

    def read() -> None:
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return proc, lines


def wait_line(lines: queue.Queue, text: str, timeout: float, seen: list[str]) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        if line is None:
            break
        seen.append(line)
        if text in line:
            return line
    raise AssertionError(f"no line with {text!r} in {timeout} s:\n{''.join(seen[-40:])}")


def stopped_within(proc: subprocess.Popen, sig: int) -> tuple[int, float]:
    sent = time.monotonic()
    proc.send_signal(sig)
    try:
        code = proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
        raise AssertionError("the kiosk did not stop within 10 s of the signal") from None
    return code, time.monotonic() - sent


def outbox_ok(folder: Path) -> None:
    for db in folder.rglob("outbox.sqlite3"):
        with sqlite3.connect(db) as conn:
            # a row a stopped delivery left in flight is re-queued at the next start (tested in
            # tests/e2e/test_outbox_crash.py); what a stop must never leave is a damaged file
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",), db


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_demo_within_5_s_with_exit_0_and_close_and_escape_stay_refused(tmp_path, sig):
    config = write_config(tmp_path / "terminal", "http://127.0.0.1:0", **HALF_SIZE)
    proc, lines = start(["demo", "--config", str(config), "--headless", "--tour", "lockdown",
                         "--out", str(tmp_path / "out")])
    seen: list[str] = []
    try:
        held = wait_line(lines, HELD, 120, seen)
    finally:
        if proc.poll() is not None:
            pytest.fail("".join(seen[-40:]))
    assert held.split()[-1] == "ok", "".join(seen[-40:])  # close request and Escape refused
    code, took = stopped_within(proc, sig)
    rest = []
    while (line := lines.get(timeout=5)) is not None:
        rest.append(line)
    assert code == 0, "".join(seen[-20:] + rest)
    assert took < 5.0, f"took {took:.1f} s"
    assert any("stopped in" in line for line in rest), "".join(rest)
    assert any("offline (stopped)" in line or "stopped" in line for line in rest)
    outbox_ok(tmp_path / "terminal")


def test_the_kiosk_run_command_stops_on_sigterm_too(tmp_path, reference_backend):
    config = write_config(tmp_path / "terminal", reference_backend.url, **HALF_SIZE)
    proc, lines = start(["run", "--config", str(config), "--windowed"])
    seen: list[str] = []
    wait_line(lines, "serving: the first", 120, seen)
    code, took = stopped_within(proc, signal.SIGTERM)
    assert code == 0 and took < 5.0, f"exit {code} after {took:.1f} s"
    outbox_ok(tmp_path / "terminal")


def test_the_demo_gives_the_same_result_when_run_twice(tmp_path):
    """The first run pays the demo water bill; the second starts from fresh demo data."""
    config = write_config(tmp_path / "terminal", "http://127.0.0.1:0", **HALF_SIZE)
    for run in (1, 2):
        out = tmp_path / f"out{run}"
        done = subprocess.run([sys.executable, "-m", "kiosk.cli", "demo", "--config", str(config), "--headless",
                               "--tour", "water_bill", "--out", str(out)], cwd=ROOT, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, f"run {run}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        assert "demo PIN" in done.stdout  # how to reach the technicians' screen, said at once
    assert (tmp_path / "out2" / "tour.json").exists()
