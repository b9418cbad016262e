"""What ``make demo`` prints: one line per event, no library chatter, the tour's progress.

A short headless tour runs as a reviewer would run it (``kiosk demo --headless`` in a
subprocess) and its output is read back line by line.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from tests.support import run_tour

pytestmark = pytest.mark.ui

#: ``2026-11-23 17:57:00,123 INFO kiosk.hardware.hub: message`` (or ``<6>INFO ...`` under journald)
LOG_LINE = re.compile(r"(?:DEBUG|INFO|WARNING|ERROR|CRITICAL) (\S+): (.*)$")
PROGRESS = re.compile(r"^✓ (\d\d) (\S+) +\((\d+\.\d) s\)$")


def test_a_headless_tour_prints_each_event_once_and_its_progress(tmp_path):
    tour = run_tour(tmp_path, "guide_only")
    proc, result = tour["proc"], tour["result"]
    assert proc.returncode == 0 and result.get("ok"), (result.get("failure"), proc.stderr[-3000:])

    log_lines = [line for line in proc.stderr.splitlines() if line.strip()]
    events = [m.groups() for line in log_lines if (m := LOG_LINE.search(line))]
    assert events and len(events) == len(log_lines), "a line that is not in the log format (Kivy's console?)"
    assert [e for e, n in Counter(events).items() if n > 1] == [], "a line printed twice"
    assert not any("Executed callback" in text or logger.startswith("transitions") for logger, text in events)
    assert not any(logger == "kivy" for logger, _ in events)  # Kivy's version and providers banner
    assert ("kiosk.hardware.hub", "device idcard: no_device -> online") in events  # our INFO lines stay

    progress = [m.groups() for line in proc.stdout.splitlines() if (m := PROGRESS.match(line))]
    assert [(n, name) for n, name, _s in progress] == [
        (f"{i:02d}", step["name"]) for i, step in enumerate(result["steps"], start=1)
    ]
    assert [name for _n, name, _s in progress] == ["guide", "guide-full", "guide-end"]
