"""A simulated terminal's configuration, written into a folder of its own.

The shipped ``config/kiosk.toml`` with the backend URL of a reference backend, its data in
``FOLDER/var`` and a known secret in ``FOLDER/terminal.secret``: what the tests and the
benchmarks start a kiosk from. A reference backend that knows the terminal is built with
``TERMINALS``::

    backend = ReferenceBackend(folder / "backend", TERMINALS)
    config = load_config(write_config(folder / "terminal", backend.start("127.0.0.1", 0)))
"""

from __future__ import annotations

from pathlib import Path

from kiosk.config import DEFAULT_PATH

#: the terminal in config/kiosk.toml
TERMINAL_ID = "NY-370921-0001"
#: the secret ``write_config`` gives it
SECRET = "test-terminal-secret-0123456789abcdef"
#: what a reference backend is given to accept that terminal's signatures
TERMINALS: dict[str, bytes] = {TERMINAL_ID: SECRET.encode()}


def write_config(folder: Path, backend_url: str, **replace: str) -> Path:
    """The shipped config with the backend URL, a private data dir and ``SECRET``; each
    ``replace`` pair swaps one piece of its text (which must be there) for another."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "terminal.secret").write_text(SECRET)
    (folder / "terminal.secret").chmod(0o600)  # a secret others can read is refused
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    text = text.replace('url = "http://127.0.0.1:8765"', f'url = "{backend_url}"')
    text = text.replace('secret_file = "../var/terminal.secret"', 'secret_file = "terminal.secret"')
    text = text.replace('data_dir = "../var"', 'data_dir = "var"')
    for old, new in replace.items():
        if old not in text:
            raise ValueError(f"{DEFAULT_PATH} has no {old!r} to replace")
        text = text.replace(old, new)
    path = folder / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path
