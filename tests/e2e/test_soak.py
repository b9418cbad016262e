"""A short soak with faults, end to end: ``kiosk soak --faults`` in a subprocess against the
reference backend, with every fault kind injected and the terminal SIGKILLed and restarted.
The report must have its shape and the backend must agree with the terminals' records.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.tours.soak_sessions import FAULTS

pytestmark = pytest.mark.timeout(290)

SESSIONS = 60


@pytest.fixture(scope="module")
def soak(tmp_path_factory):
    folder = tmp_path_factory.mktemp("soak")
    report = folder / "report.json"
    proc = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "soak", "--faults", "--fault-rate", "0.25", "--kills", "3",
         "--sessions", str(SESSIONS), "--sample-every", "5", "--max-minutes", "3", "--seed", "7",
         "--dir", str(folder / "work"), "--out", str(report)],
        capture_output=True, text=True, timeout=280, env=dict(os.environ, PYTHONPATH=str(Path(__file__).parents[2])),
    )
    return {"proc": proc, "report": json.loads(report.read_text()) if report.exists() else {}}


def test_the_fault_run_ends_consistent_and_exits_zero(soak):
    proc, report = soak["proc"], soak["report"]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "verdict: OK" in proc.stdout
    delivery = report["delivery"]
    assert delivery["ok"], delivery
    assert delivery["checked"]["transaction"] >= SESSIONS // 2  # most sessions print, each is a transaction
    assert delivery["checked"]["rating"] >= SESSIONS // 2
    assert all(delivery[k] == [] for k in ("lost", "doubled", "unexpected", "pending", "failed"))


def test_every_fault_kind_was_injected_and_the_terminal_was_killed(soak):
    report = soak["report"]
    assert set(report["faults"]) == set(FAULTS), report["faults"]
    assert report["kill_phase"]["kills"] >= 1
    assert report["kill_phase"]["final_exit"] == 0
    # a card pulled mid-item ends the session (unless the card was refused before the item began)
    assert 1 <= report["outcomes"].get("card_pulled", 0) <= report["faults"]["card_pulled"]


def test_the_report_has_its_samples_and_growth_figures(soak):
    report = soak["report"]
    assert report["mode"] == "scripted"
    assert report["sessions_done"] == SESSIONS
    assert sum(report["outcomes"].values()) == SESSIONS
    samples = report["samples"]
    assert [s["sessions"] for s in samples] == list(range(0, SESSIONS + 1, 5))
    assert all(s["rss_kib"] > 10_000 and s["fds"] > 3 and s["threads"] >= 2 for s in samples)
    assert report["warmup_sessions"] == 50
    growth = report["growth_per_1000"]
    assert set(growth) == {"rss_kib", "fds", "threads"}
    assert all(isinstance(v, float) for v in growth.values())  # 3 samples after the warm-up
    assert "| RSS (KiB) |" in soak["proc"].stdout


@pytest.mark.ui
def test_a_short_soak_through_the_window_serves_every_session(tmp_path):
    report = tmp_path / "window.json"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[2]))
    env.pop("DISPLAY", None)
    proc = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "soak", "--window", "--sessions", "4", "--sample-every", "2",
         "--max-minutes", "3", "--dir", str(tmp_path / "work"), "--out", str(report)],
        capture_output=True, text=True, timeout=240, env=env,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads(report.read_text())
    assert data["mode"] == "window"
    assert data["outcomes"] == {"printed": 4}
    assert [s["sessions"] for s in data["samples"]] == [0, 2, 4]
    assert data["delivery"]["ok"] and data["delivery"]["checked"] == {"transaction": 4, "rating": 4}
