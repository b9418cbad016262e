"""A private PostgreSQL server for tests and benchmarks, from Debian's packages.

``initdb`` into a fresh folder and ``pg_ctl start`` on a free loopback port, with its socket
in that folder; stopped by ``pg_ctl stop`` afterwards and the folder removed. PostgreSQL
refuses to run as root, so under root the folder is given to the ``postgres`` system user
(created by Debian's package) and the programs run as that user. Nothing system-wide is
touched: no cluster of ``pg_createcluster``, no service.

    with private_postgres() as pg:        # pg.url("db") -> postgresql://kiosk@127.0.0.1:PORT/db
        pg.create_database("db")
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SETUP_HINT = "run scripts/setup.sh (installs Debian's postgresql package)"


class PostgresUnavailable(RuntimeError):
    pass


def bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Postgres:
    folder: Path
    port: int
    bindir: Path
    user_prefix: list[str]

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://kiosk@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([*self.user_prefix, *args], capture_output=True, text=True, timeout=timeout)


@contextlib.contextmanager
def private_postgres(*, durable: bool = False) -> Iterator[Postgres]:
    """``durable=False`` turns fsync off (tests); the bench keeps PostgreSQL's defaults."""
    bins = bindir()
    if bins is None:
        raise PostgresUnavailable(f"PostgreSQL's initdb is not installed: {SETUP_HINT}")
    prefix: list[str] = []
    base = None
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresUnavailable(f"no postgres system user to run the server as: {SETUP_HINT}") from None
        prefix = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--init-groups", "--"]
        base = "/tmp"  # the postgres user must reach the folder; the test's own tmp is root's only
    folder = Path(tempfile.mkdtemp(prefix="kiosk-pg-", dir=base))
    if prefix:
        os.chown(folder, pw.pw_uid, pw.pw_gid)
    pg = Postgres(folder, _free_port(), bins, prefix)
    data = folder / "data"
    try:
        r = pg.run(str(bins / "initdb"), "-D", str(data), "-U", "kiosk", "--auth=trust", "-E", "UTF8",
                   "--locale=C.UTF-8", "--no-sync")
        if r.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {r.stderr.strip()[-500:]}")
        options = f"-h 127.0.0.1 -p {pg.port} -k {folder} -c max_connections=300"
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        r = pg.run(str(bins / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-o", options, "-w",
                   "-t", "60", "start")
        if r.returncode != 0:
            log = (folder / "log").read_text(errors="replace")[-800:] if (folder / "log").exists() else ""
            raise PostgresUnavailable(f"pg_ctl start failed: {r.stderr.strip()[-300:]} {log}")
        yield pg
    finally:
        if (data / "postmaster.pid").exists():
            pg.run(str(bins / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)
