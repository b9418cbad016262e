"""Two gateway processes (``kiosk gateway serve``) behind one database, as a county runs them
behind a load balancer: a request replayed to the other process is refused, a write resent
to the other process has one effect and the same answer, deliveries racing on both count once.
On SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from kiosk.backend import signing
from kiosk.backend.client import BackendClient
from kiosk.gateway.store import Store
from kiosk.sim.demo_data import BY_KEY
from tests.gateway.conftest import SECRET, TERMINAL

ROOT = Path(__file__).resolve().parents[2]
WANG = BY_KEY["wang_jianguo"].id_number


@pytest.fixture
def pair(database_url, tmp_path):
    secret_file = tmp_path / "t.secret"
    secret_file.write_text(SECRET.decode())
    procs, urls = [], []
    try:
        for _ in range(2):
            proc = subprocess.Popen(
                [sys.executable, "-m", "kiosk.cli", "gateway", "serve", "--port", "0", "--database", database_url,
                 "--data", str(tmp_path / "platform"), "--terminal", f"{TERMINAL}={secret_file}", "--threads", "4"],
                env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            procs.append(proc)
            urls.append(proc.stdout.readline().strip())
        assert all(u.startswith("http://127.0.0.1:") for u in urls), [p.stderr.read() for p in procs if p.poll()]
        for url in urls:  # the first line comes before uvicorn listens; the socket is bound already
            assert requests.get(url + "/v1/health", timeout=10).json()["status"] == "ok"
        yield urls
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                assert proc.wait(timeout=15) == 0
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()


def _post(url, path, body, headers):
    return requests.post(url + path, data=body, headers={**headers, "Content-Type": "application/json"}, timeout=10)


def test_a_request_replayed_to_the_other_process_is_refused(pair):
    a, b = pair
    path = "/v1/residents/insurance"
    body = json.dumps({"id_number": WANG}).encode()
    headers = signing.sign_headers(TERMINAL, SECRET, "POST", path, body)
    assert _post(a, path, body, headers).status_code == 200
    r = _post(b, path, body, headers)
    assert r.status_code == 401 and r.json()["error"]["code"] == "replayed_nonce"


def test_a_write_resent_to_the_other_process_has_one_effect(pair):
    a, b = pair
    with BackendClient(a, TERMINAL, SECRET) as ca, BackendClient(b, TERMINAL, SECRET) as cb:
        first = ca.certificate(WANG, "contribution_proof", "cert-two-processes")
        again = cb.certificate(WANG, "contribution_proof", "cert-two-processes")
        other = cb.certificate(WANG, "contribution_proof", "cert-two-processes-2")
    assert again == first
    assert other["certificate_no"] != first["certificate_no"]


def test_deliveries_racing_on_both_processes_count_once(pair, database_url):
    a, b = pair
    rating = {"transaction_no": "T-RACE-1", "area_code": "370921", "item_id": "contribution_proof",
              "item_name": "个人参保缴费证明查询打印", "evaluator_hash": "b" * 64, "satisfaction": 2,
              "reason": "等待时间长", "rated_at": "2026-11-23T10:00:00+08:00"}
    answers, errors = [], []

    def send(url, n):
        with BackendClient(url, TERMINAL, SECRET) as c:
            for k in range(10):
                try:
                    answers.append(c.deliver("rating", {**rating, "transaction_no": f"T-RACE-{k}"}, f"race-{k}"))
                except Exception as e:  # noqa: BLE001 - a concurrent duplicate may be told to retry
                    errors.append(e)

    threads = [threading.Thread(target=send, args=(url, n)) for n, url in enumerate([a, b, a, b])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not [e for e in errors if getattr(e, "code", "") != "request_in_progress"]
    store = Store(database_url, pool_size=1)
    try:
        got = [r["idempotency_key"] for r in store.received("rating")]
    finally:
        store.close()
    assert sorted(got) == sorted(f"race-{k}" for k in range(10))  # each key once
    by_key = {}
    for answer in answers:
        by_key.setdefault(answer["idempotency_key"], set()).add(answer["received_at"])
    assert all(len(v) == 1 for v in by_key.values())  # every answer to a key is the same answer
