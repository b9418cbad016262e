"""The systemd units: ``systemd-analyze verify`` finds nothing, the watchdog and restart policy
are what docs/operations.md says, and the installer's dry run plans the right steps."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITS = ("kiosk.service", "kiosk-backend.service", "kiosk-nightly-restart.service", "kiosk-nightly-restart.timer")
ANALYZE = shutil.which("systemd-analyze")


def directives(unit: str) -> dict[str, list[str]]:
    """``Key`` -> every value it is given (systemd allows a key more than once)."""
    out: dict[str, list[str]] = {}
    for line in (ROOT / "systemd" / unit).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "[")) and "=" in line:
            key, value = line.split("=", 1)
            out.setdefault(key, []).append(value)
    return out


@pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze not installed (Debian package systemd)")
def test_systemd_analyze_verify_is_silent(tmp_path):
    # verify wants every ExecStart binary to exist: point them at this checkout, and at a stub
    # for cage when it is not installed here (a development machine has no seat to give it)
    cage = shutil.which("cage")
    if cage is None:
        stub = tmp_path / "bin" / "cage"
        stub.parent.mkdir()
        stub.write_text("#!/bin/sh\nexec \"$@\"\n")
        stub.chmod(0o755)
        cage = str(stub)
    kiosk = ROOT / ".venv" / "bin" / "kiosk"
    assert kiosk.exists(), "make setup first"
    units = tmp_path / "units"
    units.mkdir()
    for name in UNITS:
        text = (ROOT / "systemd" / name).read_text()
        text = text.replace("/opt/kiosk/.venv/bin/kiosk", str(kiosk)).replace("/usr/bin/cage", cage)
        (units / name).write_text(text)
    proc = subprocess.run([ANALYZE, "verify", *sorted(str(p) for p in units.iterdir())],
                          capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, SYSTEMD_LOG_LEVEL="notice"))
    # unknown keys are only warnings (exit 0): any output at all fails the test
    assert proc.returncode == 0 and proc.stderr.strip() == "" and proc.stdout.strip() == "", proc.stderr


def test_the_kiosk_unit_is_notify_with_the_watchdog_and_always_restarts():
    d = directives("kiosk.service")
    assert d["Type"] == ["notify"]
    assert d["NotifyAccess"] == ["all"]  # cage is the main process; the kiosk, its child, notifies
    assert d["WatchdogSec"] == ["30"]
    assert d["Restart"] == ["always"] and d["RestartSec"] == ["2"]
    assert d["StartLimitIntervalSec"] == ["0"]
    assert d["User"] == ["kiosk"]
    assert d["ExecStart"][0].startswith("/usr/bin/cage ")
    assert d["ExecStart"][0].endswith("-- /opt/kiosk/.venv/bin/kiosk run --config /etc/kiosk/kiosk.toml")
    # GL needs W+X memory (llvmpipe) and real devices: those two protections must stay off
    assert "MemoryDenyWriteExecute" not in d and "PrivateDevices" not in d
    assert {"video", "render", "input", "dialout"} <= set(d["SupplementaryGroups"][0].split())


def test_the_backend_unit_serves_on_loopback_from_var_lib():
    d = directives("kiosk-backend.service")
    assert d["ExecStart"][0].startswith(
        "/opt/kiosk/.venv/bin/kiosk backend serve --host 127.0.0.1 --port 8765 --data /var/lib/kiosk/backend")
    assert d["Restart"] == ["always"]
    assert d["IPAddressAllow"] == ["localhost"] and d["IPAddressDeny"] == ["any"]


def test_the_nightly_restart_is_at_half_past_three_and_leaves_a_stopped_kiosk_stopped():
    assert directives("kiosk-nightly-restart.timer")["OnCalendar"] == ["*-*-* 03:30:00"]
    assert directives("kiosk-nightly-restart.service")["ExecStart"] == ["/bin/systemctl try-restart kiosk.service"]


def _dry_run(tmp_path, *args: str, unit_dir: Path | None = None) -> str:
    env = dict(os.environ, UNIT_DIR=str(unit_dir or tmp_path / "system"))
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "install-systemd.sh"), "--dry-run", *args],
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_install_dry_run_plans_units_reload_and_enable_and_changes_nothing(tmp_path):
    out = _dry_run(tmp_path)
    for unit in UNITS:
        assert f"would run: install -D -m 0644 systemd/{unit} {tmp_path}/system/{unit}" in out
    assert "would run: systemctl daemon-reload" in out
    assert "would run: systemctl enable kiosk.service kiosk-backend.service kiosk-nightly-restart.timer" in out
    assert not (tmp_path / "system").exists()
    assert out.rstrip().endswith("dry run, nothing changed")


def test_install_again_with_the_same_units_does_not_reload(tmp_path):
    installed = tmp_path / "system"
    installed.mkdir()
    for unit in UNITS:
        shutil.copy(ROOT / "systemd" / unit, installed / unit)
    out = _dry_run(tmp_path, "--no-backend", "--no-nightly", unit_dir=installed)
    assert all(f"unchanged: {installed}/{unit}" in out for unit in UNITS)
    assert "daemon-reload" not in out
    assert "would run: systemctl enable kiosk.service\n" in out
    assert "would run: systemctl disable kiosk-backend.service" in out
