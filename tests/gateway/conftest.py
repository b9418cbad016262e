"""The gateway's suite runs on SQLite and on PostgreSQL: ``database_url`` is parametrised.

The PostgreSQL server is private to the test session (``kiosk/sim/postgres.py``); each
test gets a database of its own.
"""

from __future__ import annotations

import itertools

import pytest

from kiosk.sim.postgres import PostgresUnavailable, private_postgres

_names = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_server():
    try:
        with private_postgres() as pg:
            yield pg
    except PostgresUnavailable as e:
        pytest.skip(str(e))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gateway.db'}"
    pg = request.getfixturevalue("postgres_server")
    return pg.create_database(f"gw_{next(_names)}")


TERMINAL, SECRET = "T-GW-1", b"gateway-test-secret-0001"


@pytest.fixture
def gateway(database_url, tmp_path):
    """The gateway with the simulated platform, served on loopback, on either database."""
    from kiosk.sim.backend import ReferenceBackend

    backend = ReferenceBackend(tmp_path / "platform", {TERMINAL: SECRET}, database_url=database_url)
    backend.start()
    yield backend
    backend.close()


@pytest.fixture
def client(gateway):
    from kiosk.backend.client import BackendClient

    with BackendClient(gateway.url, TERMINAL, SECRET, connect_timeout=2, read_timeout=10) as c:
        yield c
