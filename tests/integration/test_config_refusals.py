"""``kiosk check-config`` refuses what ``kiosk run`` refuses or what harms a terminal, with one
line naming the file, the key and the problem; ``kiosk run`` refuses the same file with the
same line, never with a traceback. Both are the real commands, each in its own process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support import write_config


def replace(old: str, new: str) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        path = folder / "kiosk.toml"
        text = path.read_text(encoding="utf-8")
        assert old in text, old
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return change


def in_section(section: str, line: str) -> Callable[[Path], None]:
    return replace(f"[{section}]\n", f"[{section}]\n{line}\n")


def secret(action: Callable[[Path], None]) -> Callable[[Path], None]:
    return lambda folder: action(folder / "terminal.secret")


def blocked_dir(folder: Path) -> None:
    (folder / "blocked").write_text("a file where a folder should be")


CASES = {
    "secret_file_missing": (secret(lambda p: p.unlink()), "backend.secret_file", "does not exist"),
    "secret_file_empty": (secret(lambda p: p.write_text("\n")), "backend.secret_file", "is empty"),
    "secret_file_readable_by_others": (secret(lambda p: p.chmod(0o644)), "backend.secret_file",
                                       "is open to group or others (mode 644)"),
    "secret_file_readable_by_group": (secret(lambda p: p.chmod(0o640)), "backend.secret_file",
                                      "is open to group or others (mode 640)"),
    "secret_env_unset": (replace('secret_file = "terminal.secret"', 'secret_env = "KIOSK_TEST_NO_SUCH_SECRET"'),
                         "backend.secret_env", "KIOSK_TEST_NO_SUCH_SECRET is empty or unset"),
    "data_dir_unwritable": (lambda f: (blocked_dir(f), replace('data_dir = "var"', 'data_dir = "blocked/var"')(f)),
                            "storage.data_dir", "is not a folder"),
    "log_file_unwritable": (lambda f: (blocked_dir(f), replace('# file = "../var/log/kiosk.log"',
                                                               'file = "blocked/kiosk.log"')(f)),
                            "logging.file", "is not a folder"),
    "log_file_is_a_folder": (lambda f: ((f / "logs").mkdir(), replace('# file = "../var/log/kiosk.log"',
                                                                      'file = "logs"')(f)),
                             "logging.file", "is a folder, not a file"),
    "heartbeat_every_microsecond": (replace("heartbeat_s = 60", "heartbeat_s = 0.000001"), "backend.heartbeat_s",
                                    "greater than or equal to 5"),
    "inf": (replace("read_timeout_s = 10", "read_timeout_s = inf"), "backend.read_timeout_s",
            "Input should be a finite number"),
    "nan": (replace("connect_timeout_s = 3", "connect_timeout_s = nan"), "backend.connect_timeout_s",
            "Input should be a finite number"),
    "1e300": (replace("heartbeat_s = 60", "heartbeat_s = 1e300"), "backend.heartbeat_s",
              "less than or equal to 3600"),
    "fullscreen_yes": (replace("fullscreen = true", 'fullscreen = "yes"'), "ui.fullscreen",
                       "wrong type: input should be a valid boolean, got 'yes'"),
    "number_in_quotes": (replace("idle_timeout_s = 120", 'idle_timeout_s = "120"'), "session.idle_timeout_s",
                         "wrong type: input should be a valid integer, got '120'"),
    "baud_zero": (replace('[devices.printer]\ndriver = "simulated"',
                          '[devices.printer]\ndriver = "serial"\nport = "/dev/ttyS0"\nbaud = 0'),
                  "devices.printer.baud", "0 is not allowed"),
    "baud_negative": (replace('[devices.ratingpad]\ndriver = "simulated"',
                              '[devices.ratingpad]\ndriver = "serial"\nport = "/dev/ttyS1"\nbaud = -9600'),
                      "devices.ratingpad.baud", "-9600 is not allowed"),
    "pace_baud_zero": (in_section("devices.idcard", "pace_baud = 0"), "devices.idcard.pace_baud", "0 is not allowed"),
    "printer_port_zero": (replace('[devices.printer]\ndriver = "simulated"',
                                  '[devices.printer]\ndriver = "network"\nurl = "tcp://192.0.2.10:0"'),
                          "devices.printer.url", "port 0 is not between 1 and 65535"),
    "backend_port_zero": (replace('url = "http://127.0.0.1:8765"', 'url = "http://127.0.0.1:0"'), "backend.url",
                          "port 0 is not between 1 and 65535"),
    "printer_without_port": (replace('[devices.printer]\ndriver = "simulated"',
                                     '[devices.printer]\ndriver = "network"\nurl = "tcp://192.0.2.10"'),
                             "devices.printer.url", "no port"),
    "closing_before_opening": (lambda f: (replace("open = 08:00:00", "open = 20:00:00")(f),
                                          replace("close = 20:00:00", "close = 08:00:00")(f)),
                               "service_hours.close", "closing time 08:00 is not after opening time 20:00"),
    "unknown_encoding": (replace('[devices.printer]\ndriver = "simulated"',
                                 '[devices.printer]\ndriver = "network"\nurl = "tcp://192.0.2.10:9100"\n'
                                 'encoding = "klingon"'),
                         "devices.printer.encoding", "unknown encoding 'klingon'"),
}


def kiosk(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kiosk.cli", *args], capture_output=True, text=True, timeout=60)


@pytest.fixture
def terminal(tmp_path) -> Path:
    folder = tmp_path / "terminal"
    write_config(folder, "http://127.0.0.1:8765")
    (folder / "terminal.secret").chmod(0o600)
    return folder


def test_the_good_file_passes(terminal):
    proc = kiosk("check-config", str(terminal / "kiosk.toml"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("OK (terminal NY-370921-0001, hall)")
    assert not (terminal / "var").exists()  # judging the data dir created nothing


@pytest.mark.parametrize(("change", "key", "problem"), list(CASES.values()), ids=list(CASES))
def test_check_config_and_run_refuse_with_the_same_one_line(terminal, change, key, problem):
    change(terminal)
    path = terminal / "kiosk.toml"
    checked = kiosk("check-config", str(path))
    assert checked.returncode == 1 and checked.stdout == ""
    [line] = checked.stderr.splitlines()
    assert line.startswith(f"kiosk: {path}: {key}: ") and problem in line, line
    started = kiosk("run", "--config", str(path))
    assert started.returncode == 1
    assert started.stderr.splitlines() == [line]  # the same line, and nothing else: no traceback
