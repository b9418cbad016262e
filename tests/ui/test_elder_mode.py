"""大字版 (elder mode), measured on the rendered window: sizes per the MIIT 适老化 rules."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support import write_config

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def facts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("elder")
    config = write_config(folder / "terminal", "http://127.0.0.1:0")
    out = folder / "out"
    proc = subprocess.run([sys.executable, "-m", "kiosk.cli", "demo", "--config", str(config), "--headless",
                           "--tour", "elder_sizes", "--out", str(out)], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    result = json.loads((out / "tour.json").read_text())
    assert result["ok"], result["failure"]
    return result["facts"]


def test_elder_mode_meets_the_size_rules(facts):
    for screen in ("elder_home", "elder_guide"):
        sizes = facts[screen]
        assert sizes["min_body_text_dp"] >= 18, sizes
        assert sizes["min_heading_text_dp"] >= 30, sizes
        assert sizes["min_button_height_dp"] >= 60 and sizes["min_button_width_dp"] >= 60, sizes


def test_standard_mode_targets_and_elder_mode_shows_fewer_bigger_items(facts):
    standard, elder = facts["standard_home"], facts["elder_home"]
    assert standard["min_button_height_dp"] >= 44
    assert elder["min_body_text_dp"] > standard["min_body_text_dp"]
    assert 0 < elder["tiles_on_page"] < standard["tiles_on_page"]
    assert facts["elder_mode_kept"] is True  # it stays on while the resident moves on
