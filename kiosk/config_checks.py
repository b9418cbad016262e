"""What a valid config still needs from the machine it runs on: a backend it can reach (not
the demo's port 0), a terminal secret that is there, not empty and kept private; a data dir
and a log file the kiosk can write.

``kiosk check-config`` and ``kiosk run`` both call ``check_on_host`` after ``load_config``, so
a config that passes the one is never refused (or crashes) at the other, and each problem is
one line ``<file>: <key>: <what is wrong>``. Nothing is created or changed: a folder that does
not exist yet is judged by the nearest one that does, and writing is tried with a temporary
file that is removed at once.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from urllib.parse import urlparse

from kiosk.config import KioskConfig
from kiosk.errors import ConfigError


def check_on_host(cfg: KioskConfig) -> None:
    """Raise ``ConfigError`` naming every problem, one line each."""
    problems = [*_backend(cfg), *_secret(cfg), *_data_dir(cfg), *_log_file(cfg)]
    if problems:
        raise ConfigError("\n".join(f"{cfg.source}: {key}: {what}" for key, what in problems))


def _backend(cfg: KioskConfig) -> list[tuple[str, str]]:
    # port 0 stands in for "the demo's own backend" in simulated set-ups; a running kiosk
    # could never reach it
    if urlparse(cfg.backend.url).port == 0:
        return [("backend.url", f"bad URL {cfg.backend.url!r}: port 0 is not between 1 and 65535")]
    return []


def _secret(cfg: KioskConfig) -> list[tuple[str, str]]:
    b = cfg.backend
    if b.secret_env is not None:
        if not os.environ.get(b.secret_env, "").strip():
            return [("backend.secret_env", f"environment variable {b.secret_env} is empty or unset")]
        return []
    assert b.secret_file is not None
    path = cfg.resolve(b.secret_file)
    fix = f"write the terminal secret there, mode 600 (chmod 600 {path})"
    try:
        st = path.stat()
    except FileNotFoundError:
        return [("backend.secret_file", f"{path} does not exist; {fix}")]
    except OSError as e:
        return [("backend.secret_file", f"cannot read {path}: {e.strerror}")]
    if not stat.S_ISREG(st.st_mode):
        return [("backend.secret_file", f"{path} is not a file")]
    if st.st_mode & 0o077:
        return [("backend.secret_file", f"{path} is open to group or others (mode {stat.S_IMODE(st.st_mode):o}); "
                                        f"chmod 600 {path}")]
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        return [("backend.secret_file", f"cannot read {path}: {getattr(e, 'strerror', None) or e}")]
    if not text.strip():
        return [("backend.secret_file", f"{path} is empty; {fix}")]
    return []


def _data_dir(cfg: KioskConfig) -> list[tuple[str, str]]:
    why = _not_writable_folder(cfg.data_dir)
    return [("storage.data_dir", why)] if why else []


def _log_file(cfg: KioskConfig) -> list[tuple[str, str]]:
    from kiosk.logsetup import log_file_path

    path = log_file_path(cfg.logging, cfg.source)
    if path is None:
        return []
    if path.is_dir():
        return [("logging.file", f"{path} is a folder, not a file")]
    if path.exists():
        try:
            with path.open("a"):
                pass  # appending nothing changes nothing
        except OSError as e:
            return [("logging.file", f"cannot write {path}: {e.strerror}")]
        return []
    why = _not_writable_folder(path.parent)
    return [("logging.file", f"{path}: {why}")] if why else []


def _not_writable_folder(folder: Path) -> str:
    """'' when the kiosk can create and write ``folder``; else why not."""
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        return f"cannot create {folder}: {existing} is not a folder"
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as e:
        where = "" if existing == folder else f" (in {existing}, where it would be created)"
        return f"cannot write {folder}{where}: {e.strerror}"
    return ""
