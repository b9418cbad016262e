"""The delivery worker against the reference backend: down for a while, then back."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from kiosk.backend.client import BackendClient
from kiosk.backend.delivery import DeliveryWorker
from kiosk.services.rating import Level, Rating, evaluator_token, rating_payload
from kiosk.sim.backend import ReferenceBackend
from kiosk.store.journal import Journal
from kiosk.store.outbox import Outbox
from tests.support import wait_for

TERMINAL, SECRET = "T-DELIVERY", b"delivery-secret"


def _event(n: int) -> dict:
    return {
        "device": "idcard",
        "kind": "status",
        "detail": f"event {n}",
        "at": "2026-11-23T02:00:00+08:00",
    }


def _rating(n: int) -> dict:
    return {
        "transaction_no": f"T{n:05d}",
        "area_code": "370921",
        "item_id": "water_bill",
        "item_name": "水费缴纳",
        "evaluator_hash": f"{n:064x}",
        "satisfaction": 1 + n % 5,
        "rated_at": "2026-11-23T02:00:00+08:00",
        **({"reason": "等待时间长", "indicators": ["02"]} if n % 5 < 2 else {}),
    }


@pytest.fixture
def parts(tmp_path):
    backend = ReferenceBackend(tmp_path / "ref", {TERMINAL: SECRET})
    backend.start()
    client = BackendClient(backend.url, TERMINAL, SECRET, connect_timeout=0.5, read_timeout=2)
    ob = Outbox(tmp_path / "outbox.db")
    changes: list[bool] = []
    worker = DeliveryWorker(
        ob,
        client,
        on_online_change=changes.append,
        backoff_base_s=0.05,
        backoff_max_s=0.3,
        idle_poll_s=0.2,
    )
    yield backend, ob, worker, changes
    worker.stop()
    ob.close()
    client.close()
    backend.close()


def test_delivers_in_the_background_as_rows_are_put(parts):
    backend, ob, worker, _ = parts
    worker.start()
    keys = [ob.put("rating", _rating(n)) for n in range(20)]
    wait_for(lambda: ob.depth() == 0, 10)
    assert [r["idempotency_key"] for r in backend.received("rating")] == keys
    assert worker.online is True and worker.delivered == 20


def test_backend_down_then_back_everything_arrives_in_order(parts):
    backend, ob, worker, changes = parts
    port = int(backend.url.rsplit(":", 1)[1])
    backend.stop()
    worker.start()
    events = [ob.put("device_event", _event(n), f"ev-{n}") for n in range(40)]
    ratings = [ob.put("rating", _rating(n), f"ra-{n}") for n in range(40)]
    wait_for(lambda: worker.online is False, 5)
    assert changes[-1] is False
    assert ob.depth() == 80 and ob.stats()["failed"] == 0
    assert "Unavailable" in worker.last_error
    time.sleep(1.0)  # several back-off rounds while down
    backend.start(port=port)
    wait_for(lambda: ob.depth() == 0, 20, "every row to arrive")
    assert changes[0] is False and changes[-1] is True and worker.online is True
    assert [r["idempotency_key"] for r in backend.received("device_event")] == events
    assert [r["idempotency_key"] for r in backend.received("rating")] == ratings


def test_flush_reports_what_is_left_when_the_backend_is_down(parts):
    backend, ob, worker, _ = parts
    backend.stop()
    for n in range(3):
        ob.put(
            "audit",
            {
                "actor": "tech01",
                "action": "open_admin",
                "at": "2026-11-23T02:00:00+08:00",
                "detail": str(n),
            },
        )
    t0 = time.monotonic()
    assert worker.flush(timeout_s=1.0) == 3
    assert time.monotonic() - t0 < 3
    assert worker.online is False


def test_journal_records_reach_the_backend_as_transactions(parts):
    backend, ob, worker, _ = parts
    journal = Journal(ob)
    journal.record(
        transaction_no="NY202611230001",
        item_id="contribution_proof",
        item_name="个人参保缴费证明查询打印",
        status="completed",
        masked_name="王**",
        masked_id="370***********2819",
    )
    assert worker.flush(5) == 0
    got = backend.received("transaction")
    assert len(got) == 1 and got[0]["payload"]["transaction_no"] == "NY202611230001"
    assert got[0]["payload"]["masked_id"] == "370***********2819"


def test_a_wrong_terminal_clock_is_corrected_from_the_backend_date(parts):
    backend, ob, worker, _ = parts
    backend.clock_offset_s = 3600  # the terminal's clock is an hour behind the platform's
    ob.put("rating", _rating(1), "clock-1")
    assert worker.flush(timeout_s=5) == 0
    assert 3590 < worker.client.clock_offset_s < 3610
    assert [r["idempotency_key"] for r in backend.received("rating")] == ["clock-1"]


def test_a_refused_signature_holds_rows_instead_of_failing_them(parts):
    backend, ob, worker, _ = parts
    # the platform has a new secret for this terminal that the terminal does not have yet
    backend.terminals[TERMINAL] = b"a-secret-the-terminal-does-not-have"
    ob.put("rating", _rating(2), "clock-2")
    assert worker.flush(timeout_s=0.5) == 1
    assert ob.stats()["failed"] == 0 and "bad_signature" in worker.last_error
    backend.terminals[TERMINAL] = SECRET  # the secret is fixed on the platform
    assert worker.flush(timeout_s=5) == 0
    assert [r["idempotency_key"] for r in backend.received("rating")] == ["clock-2"]


def test_payload_builders_are_accepted_and_keep_the_evaluator_confidential(parts):
    from kiosk.backend import payloads
    from kiosk.sim.demo_data import BY_KEY

    backend, ob, worker, _ = parts
    wang = BY_KEY["wang_jianguo"]
    at = dt.datetime(2026, 11, 23, 9, 30)

    def rated(txn: str, rating: Rating) -> dict:  # what the journey queues for one 好差评
        return rating_payload(rating, transaction_no=txn, area_code="370921", item_id="contribution_proof",
                              item_name="个人参保缴费证明查询打印", evaluator_hash=evaluator_token(wang.id_number, SECRET),
                              evaluator_masked="王**", at=at)

    rating = rated("NY1", Rating(Level.DISSATISFIED, indicators=("efficiency",), reasons=("slow",)))
    not_rated = rated("NY2", Rating(None, source="timeout"))
    ob.put("rating", rating, "p-rating")
    ob.put("rating", not_rated, "p-not-rated")
    ob.put("device_event", payloads.device_event("printer", "paper", "low"), "p-ev")
    ob.put(
        "help_request",
        payloads.help_request(wang.phone, "card_loss", "社会保障卡临时挂失"),
        "p-help",
    )
    ob.put("audit", payloads.audit("tech01", "open_admin"), "p-audit")
    ob.put(
        "heartbeat",
        payloads.heartbeat(
            software_version="0.1.0", devices={"printer": "online"}, paper="low", outbox_depth=3
        ),
        "p-hb",
    )
    assert worker.flush(5) == 0 and ob.stats()["failed"] == 0
    got = backend.received("rating")
    assert (
        got[0]["payload"]["satisfaction"] == 2 and got[1]["payload"]["satisfaction"] == "not_rated"
    )
    assert wang.id_number not in str(got) and got[0]["payload"]["evaluator_masked"] == "王**"
    assert got[0]["payload"]["reason_codes"] == ["slow"] and got[1]["payload"]["source"] == "timeout"
    assert (
        got[0]["payload"]["evaluator_hash"] == not_rated["evaluator_hash"]
    )  # the same resident, linkable
    assert backend.received("help_request")[0]["payload"]["phone"] == wang.phone
    assert {k: len(backend.received(k)) for k in ("device_event", "audit", "heartbeat")} == {
        "device_event": 1,
        "audit": 1,
        "heartbeat": 1,
    }


def test_payload_builders_refuse_what_the_backend_would_refuse():
    from kiosk.backend import payloads

    with pytest.raises(ValueError, match="phone"):
        payloads.help_request("12345", "x", "x")


def test_heartbeats_tell_online_state_when_idle_and_cut_a_long_back_off_short(tmp_path):
    from kiosk.backend import payloads

    backend = ReferenceBackend(tmp_path / "ref", {TERMINAL: SECRET})
    backend.start()
    port = int(backend.url.rsplit(":", 1)[1])
    client = BackendClient(backend.url, TERMINAL, SECRET, connect_timeout=2, read_timeout=3)
    ob = Outbox(tmp_path / "outbox.db")
    changes: list[bool] = []
    worker = DeliveryWorker(
        ob,
        client,
        on_online_change=changes.append,
        backoff_base_s=60,
        backoff_max_s=120,
        idle_poll_s=5,
        heartbeat=lambda: payloads.heartbeat(
            software_version="0.1.0",
            devices={"printer": "online"},
            paper="full",
            outbox_depth=ob.depth(),
        ),
        heartbeat_s=0.2,
    )
    try:
        worker.start()
        wait_for(lambda: len(backend.received("heartbeat")) >= 2, 5)
        assert backend.received("heartbeat")[0]["payload"]["outbox_depth"] == 0
        backend.stop()
        wait_for(lambda: worker.online is False, 5)  # noticed with no rows to send
        ob.put(
            "device_event", _event(1), "hb-ev-1"
        )  # fails, then would wait out a 30-60 s back-off
        time.sleep(0.5)
        assert ob.depth() == 1
        t0 = time.monotonic()
        backend.start(port=port)
        wait_for(lambda: ob.depth() == 0, 15, "the back-off to be cut short")
        assert time.monotonic() - t0 < 15
        # on a loaded machine a heartbeat may time out on its own (a short False in between, even
        # after the row went): the first change is certain, and that online comes back and stays
        assert changes[0] is False
        wait_for(lambda: worker.online is True and changes[-1] is True, 15, "online again")
        assert [r["idempotency_key"] for r in backend.received("device_event")] == ["hb-ev-1"]
    finally:
        worker.stop()
        ob.close()
        client.close()
        backend.close()


def test_concurrent_puts_while_delivering_keep_each_kind_in_put_order(parts):
    import threading

    backend, ob, worker, _ = parts
    worker.start()

    def producer(t: int) -> None:
        for n in range(60):
            ob.put("device_event", _event(t * 1000 + n), f"c{t}-{n:03d}")

    threads = [threading.Thread(target=producer, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=30)
    wait_for(lambda: ob.depth() == 0, 30)
    put_order = [row["key"] for row in ob.items(limit=1000)]  # by seq: the order puts committed
    got = [r["idempotency_key"] for r in backend.received("device_event")]
    assert got == put_order and len(got) == 240
    for t in range(4):  # and each producer's own sequence is intact
        mine = [k for k in got if k.startswith(f"c{t}-")]
        assert mine == sorted(mine)


def test_stop_during_a_heartbeat_ends_the_worker_without_waiting_out_a_poll(parts):
    from kiosk.backend import payloads

    backend, ob, _, _ = parts
    client = BackendClient(backend.url, TERMINAL, SECRET, connect_timeout=0.5, read_timeout=2)
    busy, release = threading.Event(), threading.Event()

    def heartbeat() -> dict:
        busy.set()
        release.wait(10)  # still busy when stop() comes
        return payloads.heartbeat(software_version="0.1.0", devices={}, paper="full", outbox_depth=0)

    worker = DeliveryWorker(ob, client, idle_poll_s=3600, heartbeat=heartbeat, heartbeat_s=3600)
    try:
        worker.start()
        assert busy.wait(10)
        thread = worker._thread
        ob.changed.clear()
        stopper = threading.Thread(target=worker.stop, kwargs={"timeout_s": 10})
        stopper.start()
        wait_for(ob.changed.is_set, 10)  # stop() has said everything it says
        release.set()
        stopper.join()
        assert not thread.is_alive(), "the worker waited out its idle poll after stop()"
    finally:
        release.set()
        client.close()
