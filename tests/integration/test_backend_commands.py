"""`kiosk backend serve` and `kiosk outbox status|flush`, run as a technician would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from kiosk.backend.client import BackendClient
from kiosk.sim.backend import ReferenceBackend
from kiosk.sim.demo_data import BY_KEY
from kiosk.store.outbox import Outbox

ROOT = Path(__file__).resolve().parents[2]
ENV = dict(os.environ, PYTHONPATH=str(ROOT))


def _kiosk(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli", *args],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_backend_serve_prints_its_url_first_and_stops_on_sigterm(tmp_path):
    secret_file = tmp_path / "t1.secret"
    secret_file.write_text("serve-secret\n")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kiosk.cli",
            "backend",
            "serve",
            "--port",
            "0",
            "--data",
            str(tmp_path / "data"),
            "--terminal",
            f"T-SERVE={secret_file}",
        ],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        with BackendClient(url, "T-SERVE", b"serve-secret") as c:
            assert c.insurance_info(BY_KEY["wang_jianguo"].id_number)["insured"] is True
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert (tmp_path / "data" / "reference.db").exists()


def test_backend_serve_refuses_a_bad_terminal_spec(tmp_path):
    r = _kiosk("backend", "serve", "--port", "0", "--terminal", "nofile")
    assert r.returncode == 1 and "ID=SECRET_FILE" in r.stderr


def _config(tmp_path: Path, url: str, secret: str) -> Path:
    (tmp_path / "terminal.secret").write_text(secret)
    text = (ROOT / "config" / "kiosk.toml").read_text(encoding="utf-8")
    text = text.replace('url = "http://127.0.0.1:8765"', f'url = "{url}"')
    text = text.replace('secret_file = "../var/terminal.secret"', 'secret_file = "terminal.secret"')
    text = text.replace('data_dir = "../var"', 'data_dir = "var"')
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(text, encoding="utf-8")
    return cfg


def test_outbox_status_and_flush(tmp_path):
    terminal = "NY-370921-0001"  # the id in config/kiosk.toml
    backend = ReferenceBackend(tmp_path / "ref", {terminal: b"cmd-secret"})
    url = backend.start()
    try:
        cfg = _config(tmp_path, url, "cmd-secret")
        ob = Outbox(tmp_path / "var" / "outbox.sqlite3")
        for n in range(3):
            ob.put(
                "device_event",
                {
                    "device": "printer",
                    "kind": "paper",
                    "detail": str(n),
                    "at": "2026-11-23T02:00:00+08:00",
                },
            )
        ob.put("device_event", {"device": "printer"}, "broken-row")  # the backend will refuse it
        ob.close()

        status = json.loads(_kiosk("outbox", "status", "--config", str(cfg)).stdout)
        assert status["depth"] == 4 and status["failed"] == 0 and status["oldest_age_s"] is not None

        r = _kiosk("outbox", "flush", "--config", str(cfg), "--timeout", "20")
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
        assert out["before"] == 4 and out["left"] == 0 and out["failed"] == 1
        assert "invalid_request" in out["last_error"]
        assert len(backend.received("device_event")) == 3

        status = json.loads(_kiosk("outbox", "status", "--config", str(cfg), "--failed").stdout)
        assert status["depth"] == 0 and status["failed"] == 1 and status["done"] == 3
        assert [r["key"] for r in status["failed_rows"]] == ["broken-row"]
    finally:
        backend.close()


def test_outbox_flush_with_the_backend_down_exits_1_and_keeps_the_rows(tmp_path):
    cfg = _config(tmp_path, "http://127.0.0.1:9", "cmd-secret")  # nothing listens on port 9
    ob = Outbox(tmp_path / "var" / "outbox.sqlite3")
    ob.put("audit", {"actor": "tech01", "action": "flush", "at": "2026-11-23T02:00:00+08:00"})
    ob.close()
    r = _kiosk("outbox", "flush", "--config", str(cfg), "--timeout", "2")
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert out["left"] == 1 and "Unavailable" in out["last_error"]


def test_backend_serve_accepts_the_kiosk_configs_terminal_by_default(tmp_path):
    cfg = _config(tmp_path, "http://127.0.0.1:8765", "config-secret")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kiosk.cli",
            "backend",
            "serve",
            "--port",
            "0",
            "--config",
            str(cfg),
        ],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        with BackendClient(url, "NY-370921-0001", b"config-secret") as c:
            assert c.card_status(BY_KEY["zhao_li"].id_number)["status"] == "lost"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
