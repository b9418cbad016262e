"""`kiosk demo --headless`: the reviewers' tour passes one item of each kind and leaves what it printed."""

from __future__ import annotations

import pytest

from tests.support import run_tour

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    tour = run_tour(tmp_path_factory.mktemp("demo"), "demo", 600)
    proc, out, data = tour["proc"], tour["out"], tour["result"]
    assert proc.returncode == 0 and data["ok"], data.get("failure") or proc.stderr[-3000:]
    return out, data


def test_one_item_of_each_kind_is_shown(demo):
    _out, data = demo
    screens = {s["screen"] for s in data["steps"]}
    for screen in ("record", "payment_qr", "query", "card_service", "guide", "result", "rating"):
        assert screen in screens, screen


def test_receipts_and_certificate_files_are_left_for_the_reviewer(demo):
    out, data = demo
    kept = data["facts"]["artifacts"]
    assert any(k.startswith("receipts/") for k in kept)
    assert any(k.endswith(".pdf") for k in kept)
    for name in kept:
        assert (out / name).stat().st_size > 1000, name
    assert (out / "receipt.png").exists()
