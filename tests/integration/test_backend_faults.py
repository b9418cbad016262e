"""A misbehaving backend: each kind of garbage gives a clear error in bounded time, the outbox
loses nothing, and once the backend behaves again every row arrives exactly once."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from kiosk.backend.client import BackendClient
from kiosk.backend.delivery import DeliveryWorker
from kiosk.errors import BackendError, BackendProtocolError, BackendUnavailableError
from kiosk.sim.demo_data import BY_KEY
from kiosk.store.outbox import Outbox

TERMINAL, SECRET = "T-FAULTS", b"faults-secret"
TODAY = dt.date(2026, 11, 23)
WANG = BY_KEY["wang_jianguo"].id_number


@pytest.fixture
def client(backend):
    backend.faults.clear()
    c = BackendClient(
        backend.url, TERMINAL, SECRET, connect_timeout=1, read_timeout=1.5, total_timeout=2
    )
    yield c
    c.close()
    backend.faults.clear()


def _event(n: int) -> dict:
    return {
        "device": "printer",
        "kind": "paper",
        "detail": f"event {n}",
        "at": "2026-11-23T02:00:00+08:00",
    }


@pytest.mark.parametrize(
    ("mode", "extra", "error"),
    [
        ("html", {}, BackendProtocolError),
        ("truncated", {}, BackendProtocolError),
        ("wrong_types", {}, BackendProtocolError),
        ("huge", {}, BackendProtocolError),
        ("drip", {"delay_s": 0.2}, BackendUnavailableError),
        ("drip_headers", {"delay_s": 0.2}, BackendUnavailableError),
        ("slow", {"delay_s": 2.0}, BackendUnavailableError),
        ("5xx", {}, BackendUnavailableError),
        ("drop", {}, BackendUnavailableError),
    ],
)
def test_garbage_gives_a_clear_error_in_bounded_time(backend, client, mode, extra, error):
    backend.faults.set(mode, **extra)
    t0 = time.monotonic()
    with pytest.raises(error) as e:
        client.insurance_info(WANG)
    took = time.monotonic() - t0
    assert e.value.retryable is True
    assert e.value.message_zh  # something a resident can be shown
    # two attempts (a query is retried once), each bounded by the total deadline
    assert took < 2 * client.total_timeout + 2.5, f"{mode} took {took:.1f} s"
    backend.faults.clear()
    assert client.insurance_info(WANG)["insured"] is True  # and the client recovers


def test_a_huge_body_is_not_read_into_memory(backend, client):
    backend.faults.set("huge", size=200 * 1024 * 1024)
    t0 = time.monotonic()
    with pytest.raises(BackendProtocolError, match="cap"):
        client.health()
    assert time.monotonic() - t0 < 3


def test_html_error_page_on_5xx_is_unavailable_not_garbage(backend, client):
    # a proxy's 502 page means "try later", not "the contract is broken"
    backend.faults.set("5xx", status=502)
    with pytest.raises(BackendUnavailableError):
        client.deliver("device_event", _event(0), "ev-502")


@pytest.mark.parametrize("mode", ["html", "truncated", "wrong_types", "drop", "5xx", "drip"])
def test_outbox_keeps_rows_through_garbage_and_delivers_once_after(backend, client, tmp_path, mode):
    backend.store.clear_received()
    ob = Outbox(tmp_path / "outbox.db")
    worker = DeliveryWorker(ob, client, backoff_base_s=0.05, backoff_max_s=0.2)
    keys = [ob.put("device_event", _event(n), f"{mode}-ev-{n}") for n in range(5)]
    # "after": the backend takes the row, then the answer is lost: the worst case for doubles
    backend.faults.set(mode, when="after", delay_s=0.5, count=3)
    worker.flush(timeout_s=1.0)
    assert ob.depth() + len(backend.received("device_event")) >= 5  # nothing vanished
    assert ob.stats()["failed"] == 0
    backend.faults.clear()
    assert worker.flush(timeout_s=10) == 0
    got = [r["idempotency_key"] for r in backend.received("device_event")]
    assert got == keys  # each once, in order
    ob.close()


def test_a_refused_row_fails_with_its_reason_and_is_not_retried(backend, client, tmp_path):
    backend.store.clear_received()
    ob = Outbox(tmp_path / "outbox.db")
    worker = DeliveryWorker(ob, client, backoff_base_s=0.05)
    ob.put("device_event", {"device": "printer"}, "bad-ev")  # fields missing
    ob.put("device_event", _event(1), "good-ev")
    assert worker.flush(timeout_s=5) == 0
    failed = ob.items("failed")
    assert [f["key"] for f in failed] == ["bad-ev"] and failed[0]["attempts"] == 1
    assert "invalid_request" in failed[0]["last_error"]
    assert [r["idempotency_key"] for r in backend.received("device_event")] == ["good-ev"]
    ob.close()


def test_backend_error_shape_is_carried(backend, client):
    with pytest.raises(BackendError) as e:
        client.certificate(BY_KEY["chen_ming"].id_number, "contribution_proof", "no-insurance")
    assert e.value.code == "not_insured" and not e.value.retryable
    assert "参保" in e.value.message_zh and e.value.message_en


@pytest.mark.parametrize(
    ("mode", "who"), [("drop", "liu_yan"), ("5xx", "ouyang_na"), ("truncated", "ayigul")]
)
def test_a_lost_answer_to_create_order_never_makes_a_second_order(backend, client, mode, who):
    # the order is created, then the answer is lost; the client's own retry (same key,
    # fresh signature) must get the same order back, and the resident pays once
    resident = BY_KEY[who].id_number
    spec = {
        "purpose": "contribution",
        "id_number": resident,
        "scheme": "pension_resident",
        "year": 2026,
        "grade_id": "g500",
    }
    key = f"order-lost-answer-{mode}"
    before = backend.store.conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
    backend.faults.set(mode, when="after", count=1)
    try:
        first = client.create_order(spec, key)  # the retry inside the client gets it
    except BackendError:
        first = None  # truncated JSON is not retried: the journey asks again with the same key
    backend.faults.clear()
    order = client.create_order(spec, key)
    assert first is None or first == order
    after = backend.store.conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
    assert after == before + 1
    backend.mark_paid(order["order_no"])
    assert client.reconcile_order(order["order_no"])["status"] == "paid"
    # paid: a new order for the same year is refused, the resident cannot pay twice
    with pytest.raises(BackendError) as e:
        client.create_order(spec, key + "-again")
    assert e.value.code == "not_eligible"
