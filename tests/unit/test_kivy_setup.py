"""Kivy is configured before it is imported, or not at all: an early import would print every line twice."""

from __future__ import annotations

import sys

import pytest

from kiosk.kivy_setup import configure_kivy


def test_configuring_kivy_after_it_was_imported_is_refused(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "kivy", sys.modules.get("kivy") or type(sys)("kivy"))
    with pytest.raises(RuntimeError, match="imported before configure_kivy"):
        configure_kivy(width=540, height=960, fullscreen=False, headless=True, home=tmp_path / "kivy")
    assert not (tmp_path / "kivy").exists()  # refused before touching anything
