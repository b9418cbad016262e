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
