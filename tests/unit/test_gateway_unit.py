"""The gateway's systemd unit: verified by systemd-analyze, serving on loopback from its own
state directory, restarted always, its settings in an environment file."""

import os
import subprocess
from pathlib import Path

import pytest

from tests.unit.test_systemd_units import ANALYZE, ROOT, directives

UNIT = "kiosk-gateway.service"


def test_the_gateway_unit_serves_on_loopback_and_restarts():
    d = directives(UNIT)
    [start] = d["ExecStart"]
    assert start.startswith("/opt/kiosk/.venv/bin/kiosk gateway serve --host 127.0.0.1 ")
    assert d["Restart"] == ["always"] and d["EnvironmentFile"] == ["/etc/kiosk/gateway.env"]
    assert d["StateDirectory"] == ["kiosk-gateway"] and d["NoNewPrivileges"] == ["yes"]
    assert int(d["LimitNOFILE"][0]) >= 8192  # thousands of terminals keep a connection each


@pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze not installed (Debian package systemd)")
def test_systemd_analyze_verify_is_silent_on_the_gateway_unit(tmp_path):
    kiosk = ROOT / ".venv" / "bin" / "kiosk"
    assert kiosk.exists(), "make setup first"
    unit = tmp_path / UNIT
    unit.write_text((ROOT / "systemd" / UNIT).read_text().replace("/opt/kiosk/.venv/bin/kiosk", str(kiosk))
                    .replace("EnvironmentFile=/etc/kiosk/gateway.env", "EnvironmentFile=-/etc/kiosk/gateway.env"))
    proc = subprocess.run([ANALYZE, "verify", str(unit)], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, SYSTEMD_LOG_LEVEL="notice"))
    assert proc.returncode == 0 and proc.stderr.strip() == "" and proc.stdout.strip() == "", proc.stderr


def test_the_reference_backend_unit_no_longer_promises_a_demo_secret():
    assert "demo secret" not in (Path(ROOT) / "systemd" / "kiosk-backend.service").read_text()
