"""Logging for a terminal that runs for months: journal-friendly, rotated, personal data masked.

``configure_logging`` is called once by each long-running command. Under systemd
(``JOURNAL_STREAM`` set) stderr lines carry no timestamp, because the journal adds its own,
and start with a ``<N>`` syslog priority, which journald turns into the entry's priority, so
``journalctl -p warning`` works. An optional rotated file is kept beside the journal for sites
that collect logs from disk.

Every handler carries ``RedactingFilter``: an ID number or a mobile number that slipped into a
log call (from our code, a library's exception text or a traceback) is masked before any handler
writes it. It is the last line of defence; the code is meant to log masked values already.

One line per event, and only lines a technician can use: the libraries' chatter (the state
machine's every callback, each HTTP connection, image plugins, font subsetting for the PDFs,
the printer library's "enabled") is held at WARNING unless detail is asked for, with
``[logging] level = "DEBUG"`` or ``KIOSK_LOG_DEBUG=1``. Kivy's own level follows the same choice (``kiosk.kivy_setup``).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import sys
from pathlib import Path

from kiosk.config import LoggingConfig
from kiosk.identity import mask_id_number, mask_phone

#: an 18-character resident ID number: 6-digit area, birth date 18xx-20xx, sequence, check char.
#: The check digit is not verified: a mistyped number is still somebody's.
ID_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])"
)
#: a mainland mobile number, 11 digits starting 13-19, not part of a longer number
MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")

#: logging level -> syslog priority, for journald's ``<N>`` line prefix
_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}

#: marks the handlers this module installed, so a second call replaces them instead of doubling
_OURS = "_kiosk_handler"

#: loggers of libraries whose INFO and DEBUG lines say nothing to a technician
LIBRARIES = ("transitions", "urllib3", "requests", "PIL", "escpos", "fontTools", "fpdf")
#: set to 1 for every library's detail, whatever the config says
DEBUG_ENV = "KIOSK_LOG_DEBUG"


def redact(text: str) -> str:
    """Mask every ID number and mobile number in ``text``."""
    text = ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)), text)
    return MOBILE.sub(lambda m: mask_phone(m.group(0)), text)


class RedactingFilter(logging.Filter):
    """Masks personal numbers in the message, its arguments and any traceback, in place.

    The record is rewritten (message formatted, args dropped) so that every handler after
    this one, whichever formatter it has, sees only the masked text."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must still be logged, masked
            message = f"{record.msg!r} % {record.args!r}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class LibraryChatterFilter(logging.Filter):
    """On the root logger itself: drops what a library logs through the module-level
    ``logging.info()`` (python-escpos does), below WARNING. The kiosk's own code logs through
    named loggers, whose records this filter never sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


class JournalFormatter(logging.Formatter):
    """``<6>INFO kiosk.x: message``: journald reads the priority prefix and adds the time."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        prefix = f"<{_PRIORITY.get(record.levelno, 6)}>"
        # each line of a traceback gets the prefix too, or journald logs them at the default level
        return "\n".join(prefix + line for line in text.split("\n"))


def log_file_path(cfg: LoggingConfig, source: Path) -> Path | None:
    """The rotated file named in the config, resolved against the config file's folder."""
    if cfg.file is None:
        return None
    return cfg.file if cfg.file.is_absolute() else (source.parent / cfg.file).resolve()


def wants_detail(cfg: LoggingConfig) -> bool:
    """Whether the libraries' own INFO and DEBUG lines are wanted too."""
    return cfg.level == "DEBUG" or os.environ.get(DEBUG_ENV) == "1"


def configure_logging(cfg: LoggingConfig, *, source: Path) -> None:
    """Set up the root logger from the ``[logging]`` section. Safe to call again."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _OURS, False):
            root.removeHandler(handler)
            handler.close()
    for old in [f for f in root.filters if isinstance(f, LibraryChatterFilter)]:
        root.removeFilter(old)
    detail = wants_detail(cfg)
    root.setLevel(logging.DEBUG if detail else cfg.level)

    stderr = logging.StreamHandler(sys.stderr)
    if os.environ.get("JOURNAL_STREAM"):
        stderr.setFormatter(JournalFormatter("%(levelname)s %(name)s: %(message)s"))
    else:
        stderr.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handlers: list[logging.Handler] = [stderr]

    path = log_file_path(cfg, source)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        rotating = logging.handlers.RotatingFileHandler(
            path, maxBytes=cfg.max_bytes, backupCount=cfg.backups, encoding="utf-8"
        )
        rotating.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handlers.append(rotating)

    for handler in handlers:
        handler.addFilter(RedactingFilter())
        setattr(handler, _OURS, True)
        root.addHandler(handler)
    for handler in root.handlers:  # handlers others put there (Kivy's console) are masked too
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(logging.NOTSET if detail else logging.WARNING)
    if not detail:
        root.addFilter(LibraryChatterFilter())
