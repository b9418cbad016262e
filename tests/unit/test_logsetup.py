"""Logging set-up: personal numbers never reach a log line, journald gets priorities, files rotate."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kiosk.config import LoggingConfig
from kiosk.identity import id_check_digit, mask_id_number
from kiosk.logsetup import LIBRARIES, configure_logging, redact

ID17 = "37092119560312002"
ID_NUMBER = ID17 + id_check_digit(ID17)
PHONE = "13812345678"


@pytest.fixture
def root_logger():
    root = logging.getLogger()
    saved_handlers, saved_level, saved_filters = list(root.handlers), root.level, list(root.filters)
    saved_libraries = {name: logging.getLogger(name).level for name in LIBRARIES}
    yield root
    for handler in list(root.handlers):
        if handler not in saved_handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(saved_level)
    root.filters[:] = saved_filters
    for name, level in saved_libraries.items():
        logging.getLogger(name).setLevel(level)


def test_redact_masks_id_numbers_and_mobiles_but_not_transaction_numbers():
    text = f"reader read {ID_NUMBER} phone {PHONE}, txn NY-370921-0001-20261123175700-AB12 no JY370921202611230001234"
    out = redact(text)
    assert ID_NUMBER not in out and PHONE not in out
    assert mask_id_number(ID_NUMBER) in out
    assert "138****5678" in out
    assert "NY-370921-0001-20261123175700-AB12" in out  # not personal, kept as is
    assert "JY370921202611230001234" in out


def test_redact_masks_an_id_number_with_a_wrong_check_digit_and_a_lowercase_x():
    wrong = ID17 + ("0" if id_check_digit(ID17) != "0" else "1")
    assert wrong not in redact(f"typed {wrong}")
    assert "11010519491231002x" not in redact("id 11010519491231002x!")


def test_a_log_line_with_an_id_number_comes_out_masked_in_the_file_and_on_stderr(tmp_path, root_logger, capsys):
    config_file = tmp_path / "etc" / "kiosk.toml"
    configure_logging(LoggingConfig(level="INFO", file=Path("../log/kiosk.log")), source=config_file)
    log = logging.getLogger("kiosk.test")
    log.info("card read: %s, phone %s", ID_NUMBER, PHONE)
    try:
        raise ValueError(f"backend refused {ID_NUMBER}")
    except ValueError:
        log.exception("lookup failed")
    for handler in root_logger.handlers:
        handler.flush()
    written = (tmp_path / "log" / "kiosk.log").read_text(encoding="utf-8")  # resolved against the config's folder
    shown = capsys.readouterr().err
    for text in (written, shown):
        assert ID_NUMBER not in text
        assert PHONE not in text
        assert f"card read: {mask_id_number(ID_NUMBER)}, phone 138****5678" in text
        assert f"ValueError: backend refused {mask_id_number(ID_NUMBER)}" in text


def test_under_journald_lines_carry_a_priority_and_no_timestamp(tmp_path, root_logger, capsys, monkeypatch):
    monkeypatch.setenv("JOURNAL_STREAM", "8:12345")
    configure_logging(LoggingConfig(level="INFO"), source=tmp_path / "kiosk.toml")
    logging.getLogger("kiosk.test").warning("paper low")
    logging.getLogger("kiosk.test").info("started")
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["<4>WARNING kiosk.test: paper low", "<6>INFO kiosk.test: started"]


def test_configuring_twice_does_not_double_lines(tmp_path, root_logger, capsys):
    for _ in range(2):
        configure_logging(LoggingConfig(level="INFO"), source=tmp_path / "kiosk.toml")
    logging.getLogger("kiosk.test").info("once")
    assert capsys.readouterr().err.count("once") == 1


def test_the_file_rotates_at_max_bytes(tmp_path, root_logger):
    cfg = LoggingConfig(level="INFO", file=tmp_path / "kiosk.log", max_bytes=65536, backups=2)
    configure_logging(cfg, source=tmp_path / "kiosk.toml")
    for i in range(3000):
        logging.getLogger("kiosk.test").info("line %d %s", i, "x" * 60)
    files = sorted(p.name for p in tmp_path.glob("kiosk.log*"))
    assert files == ["kiosk.log", "kiosk.log.1", "kiosk.log.2"]
    assert all(p.stat().st_size <= 65536 for p in tmp_path.glob("kiosk.log*"))


def test_a_handler_installed_by_someone_else_is_masked_too(tmp_path, root_logger):
    import io

    stream = io.StringIO()
    other = logging.StreamHandler(stream)
    root_logger.addHandler(other)
    configure_logging(LoggingConfig(level="INFO"), source=tmp_path / "kiosk.toml")
    logging.getLogger("kivy").info("id %s", ID_NUMBER)
    assert ID_NUMBER not in stream.getvalue()
    assert mask_id_number(ID_NUMBER) in stream.getvalue()


def test_library_chatter_stays_below_the_console_unless_detail_is_asked_for(tmp_path, root_logger, capsys, monkeypatch):
    monkeypatch.delenv("KIOSK_LOG_DEBUG", raising=False)
    configure_logging(LoggingConfig(level="INFO"), source=tmp_path / "kiosk.toml")
    logging.getLogger("transitions.core").info("Executed callback '_changed'")
    logging.info("Network printer enabled")  # a library logging on the root logger itself
    logging.getLogger("urllib3.connectionpool").warning("Retrying after connection broken")
    logging.getLogger("kiosk.services.journey").info("journey AB12CD -> guide")
    err = capsys.readouterr().err
    assert "Executed callback" not in err and "Network printer enabled" not in err
    assert "Retrying after connection broken" in err and "journey AB12CD -> guide" in err

    monkeypatch.setenv("KIOSK_LOG_DEBUG", "1")
    configure_logging(LoggingConfig(level="INFO"), source=tmp_path / "kiosk.toml")
    logging.getLogger("transitions.core").info("Executed callback '_changed'")
    logging.info("Network printer enabled")
    err = capsys.readouterr().err
    assert "Executed callback" in err and "Network printer enabled" in err
