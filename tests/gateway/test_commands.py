"""``kiosk gateway ...`` as an operator runs it: accounts, terminals, the schema check, and
``serve`` refusing what it must refuse."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import update

from kiosk.gateway import accounts
from kiosk.gateway import schema as s
from kiosk.gateway.store import Store

ROOT = Path(__file__).resolve().parents[2]


def _kiosk(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kiosk.cli", "gateway", *args], capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ, PYTHONPATH=str(ROOT)))


def test_accounts_terminals_and_the_schema_check(tmp_path):
    db = f"sqlite:///{tmp_path / 'gw.db'}"
    (tmp_path / "pw").write_text("a long enough password\n")
    r = _kiosk("user", "add", "wang", "--role", "supervisor", "--name", "王主管", "--password-file",
               str(tmp_path / "pw"), "--database", db)
    assert r.returncode == 0, r.stderr
    (tmp_path / "short").write_text("short")
    r = _kiosk("user", "add", "li", "--role", "technician", "--password-file", str(tmp_path / "short"), "--database", db)
    assert r.returncode == 1 and "at least 10 characters" in r.stderr
    (tmp_path / "t.secret").write_text("terminal-secret-0123456789\n")
    r = _kiosk("terminal", "add", "NY-1", "--secret-file", str(tmp_path / "t.secret"), "--township", "葛石镇",
               "--database", db)
    assert r.returncode == 0, r.stderr
    assert _kiosk("terminal", "list", "--database", db).stdout.split() == ["NY-1"]
    store = Store(db, pool_size=1)
    assert store.secret_for("NY-1") == b"terminal-secret-0123456789"
    with store.write() as conn:
        result, _ = accounts.login(conn, "wang", "a long enough password", now=1e9)
        assert result == "ok"
        assert [a.action for a in accounts.trail(conn)] == ["user_add"]
        conn.execute(update(s.meta).values(value="0"))
    store.close()
    r = _kiosk("db", "check", "--database", db)
    assert r.returncode == 1 and "schema version 0" in r.stderr


def test_serve_refuses_plain_http_beyond_loopback_and_a_bad_adapter(tmp_path):
    db = f"sqlite:///{tmp_path / 'gw.db'}"
    r = _kiosk("serve", "--host", "0.0.0.0", "--port", "0", "--database", db)
    assert r.returncode == 1 and "refusing to serve plain HTTP on 0.0.0.0" in r.stderr
    r = _kiosk("serve", "--port", "0", "--database", db, "--adapter", "json:loads")
    assert r.returncode != 0
    (tmp_path / "weak").write_text("short")
    r = _kiosk("serve", "--port", "0", "--database", db, "--terminal", f"T1={tmp_path / 'weak'}")
    assert r.returncode == 1 and "at least 16 characters" in r.stderr
