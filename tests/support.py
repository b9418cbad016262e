"""Helpers shared by the test packages (fixtures live in conftest.py)."""

from __future__ import annotations

from pathlib import Path

from kiosk.config import DEFAULT_PATH

TEST_SECRET = "test-terminal-secret-0123456789abcdef"


def write_config(folder: Path, backend_url: str, **replace: str) -> Path:
    """The shipped config with the backend URL, a private data dir and the test secret."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "terminal.secret").write_text(TEST_SECRET)
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    text = text.replace('url = "http://127.0.0.1:8765"', f'url = "{backend_url}"')
    text = text.replace('secret_file = "../var/terminal.secret"', 'secret_file = "terminal.secret"')
    text = text.replace('data_dir = "../var"', 'data_dir = "var"')
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    path = folder / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run_tour(folder: Path, name: str, timeout: float = 300, **replace: str) -> dict:
    """Run one named tour through the real offscreen window (``kiosk demo --headless``) in a
    subprocess — one Kivy window per process — against its own backend and data folder.

    Returns ``proc`` (the finished process), ``out`` (screenshots and tour.json), ``result``
    (what tour.json says: ok, failure, steps with each screen's texts, facts) and ``data``
    (the terminal's data folder, where the reference backend keeps what it received).
    ``replace`` edits the shipped config's text (old=new), as ``write_config`` does."""
    import json
    import subprocess
    import sys

    config = write_config(folder / "terminal", "http://127.0.0.1:0", **replace)
    out = folder / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "demo", "--config", str(config), "--headless", "--tour", name,
         "--out", str(out)],
        capture_output=True, text=True, timeout=timeout,
    )
    result = json.loads((out / "tour.json").read_text()) if (out / "tour.json").exists() else {}
    return {"proc": proc, "out": out, "result": result, "data": folder / "terminal" / "var" / "demo"}


def step(tour: dict, name: str) -> dict:
    """The recorded step called ``name`` (its screen, texts and screenshot)."""
    return next(s for s in tour["result"]["steps"] if s["name"] == name)
