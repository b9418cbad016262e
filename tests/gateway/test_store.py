"""The gateway's database rules, on SQLite and PostgreSQL: nonces and idempotency keys hold
across two stores (two processes' worth) on one database; the schema version is checked."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import insert, text, update

from kiosk.errors import ConfigError
from kiosk.gateway import schema as s
from kiosk.gateway.store import IdempotencyConflict, InProgress, Store


@pytest.fixture
def two(database_url):
    a, b = Store(database_url, pool_size=4), Store(database_url, pool_size=4)
    yield a, b
    a.close()
    b.close()


def test_a_nonce_seen_by_one_store_is_refused_by_the_other(two):
    a, b = two
    now = int(time.time())
    assert a.remember_nonce("T1", "nonce-0001", now) is True
    assert b.remember_nonce("T1", "nonce-0001", now) is False
    assert a.remember_nonce("T1", "nonce-0001", now) is False
    assert b.remember_nonce("T2", "nonce-0001", now) is True  # nonces are per terminal


def test_a_local_write_happens_once_across_stores_and_threads(two):
    a, b = two
    applied = []

    def effect(conn):
        applied.append(1)
        conn.execute(insert(s.events).values(terminal_id="T1", ts=0.0, kind="x", detail="once"))
        return 201, {"n": 1}

    answers = []
    threads = [threading.Thread(target=lambda st=st: answers.append(st.local_write("T1", "k1", "rating", {"a": 1}, effect)))
               for st in (a, b, a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [(201, {"n": 1})] * 4
    with a.read() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM gw_events")).scalar() == 1
    with pytest.raises(IdempotencyConflict):
        b.local_write("T1", "k1", "rating", {"a": 2}, effect)


def test_a_remote_write_in_flight_is_not_applied_twice(two):
    a, b = two
    started, release = threading.Event(), threading.Event()
    calls = []

    def slow_effect():
        calls.append("a")
        started.set()
        release.wait(10)
        return 201, {"order": 1}

    result = {}
    t = threading.Thread(target=lambda: result.update(a=a.remote_write("T1", "k2", "order", {"x": 1}, slow_effect)))
    t.start()
    assert started.wait(10)
    with pytest.raises(InProgress):  # the other process is told to try again, not applied twice
        b.remote_write("T1", "k2", "order", {"x": 1}, lambda: (calls.append("b"), (201, {"order": 2}))[1])
    release.set()
    t.join()
    assert result["a"] == (201, {"order": 1})
    assert b.remote_write("T1", "k2", "order", {"x": 1}, lambda: (201, {"order": 3})) == (201, {"order": 1})
    assert calls == ["a"]


def test_a_failed_remote_write_releases_its_key(two):
    a, b = two
    assert a.remote_write("T1", "k3", "order", {}, lambda: (503, {"error": 1}))[0] == 503
    assert b.remote_write("T1", "k3", "order", {}, lambda: (201, {"ok": True})) == (201, {"ok": True})


def test_a_claim_left_by_a_dead_process_is_taken_over(two):
    a, b = two
    with a.write() as conn:
        conn.execute(insert(s.idempotency).values(terminal_id="T1", key="k4", route="order", body_hash="",
                                                  state="pending", created_at=0.0))
    from kiosk.gateway.store import body_hash

    with a.write() as conn:
        conn.execute(update(s.idempotency).values(body_hash=body_hash({})))
    assert b.remote_write("T1", "k4", "order", {}, lambda: (201, {"ok": 4})) == (201, {"ok": 4})


def test_a_database_of_another_schema_version_is_refused(database_url):
    store = Store(database_url, pool_size=1)
    with store.write() as conn:
        conn.execute(update(s.meta).where(s.meta.c.key == "schema_version").values(value="999"))
    store.close()
    with pytest.raises(ConfigError, match="schema version 999"):
        Store(database_url, pool_size=1)


def test_secrets_are_provisioned_rotated_and_revoked(database_url):
    store = Store(database_url, pool_size=1)
    assert store.secret_for("T9") is None
    store.provision("T9", b"first-secret-0123456", township="葛石镇")
    assert store.secret_for("T9") == b"first-secret-0123456"
    store.provision("T9", b"second-secret-012345")
    assert store.secret_for("T9") == b"second-secret-012345"
    store.revoke("T9")
    assert store.secret_for("T9") is None
    store.close()
