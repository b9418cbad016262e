"""The soak run's arithmetic and judgement: slopes, warm-up, and the delivery verdict."""

from __future__ import annotations

import os
import threading

from kiosk.tours.soak import (
    Sample,
    growth_per_1000,
    judge_delivery,
    read_process,
    slope,
    warmup_for,
)


def _samples(per_session: dict[str, float], n: int = 20, every: int = 100, start: dict[str, float] | None = None):
    start = start or {"rss_kib": 100_000, "fds": 30, "threads": 12}
    return [Sample(i * every, i, *(int(start[m] + per_session[m] * i * every) for m in ("rss_kib", "fds", "threads")))
            for i in range(n)]


def test_slope_of_a_line_and_of_degenerate_input():
    assert slope([(0, 1), (1, 3), (2, 5)]) == 2
    assert slope([(5, 1)]) == 0.0
    assert slope([(5, 1), (5, 9)]) == 0.0


def test_growth_per_1000_sessions_reports_a_leak_and_a_flat_line():
    leaking = growth_per_1000(_samples({"rss_kib": 2.0, "fds": 0.01, "threads": 0.0}), warmup_sessions=300)
    assert leaking == {"rss_kib": 2000.0, "fds": 10.0, "threads": 0.0}


def test_warm_up_growth_is_left_out_of_the_slope():
    samples = _samples({"rss_kib": 0.0, "fds": 0.0, "threads": 0.0})
    # the first samples climb steeply (screens built, caches filled), then it is flat
    samples[0] = Sample(0, 0, 10_000, 20, 8)
    samples[1] = Sample(100, 1, 60_000, 25, 10)
    flat = growth_per_1000(samples, warmup_sessions=200)
    assert flat == {"rss_kib": 0.0, "fds": 0.0, "threads": 0.0}
    assert growth_per_1000(samples, warmup_sessions=0)["rss_kib"] > 0


def test_too_few_samples_after_the_warm_up_give_no_figure():
    assert growth_per_1000(_samples({"rss_kib": 1, "fds": 0, "threads": 0}, n=4), warmup_sessions=250) == {
        "rss_kib": None, "fds": None, "threads": None}


def test_warm_up_is_a_tenth_within_bounds():
    assert warmup_for(200) == 50
    assert warmup_for(2000) == 200
    assert warmup_for(50_000) == 500


def test_read_process_sees_a_new_thread_and_a_new_descriptor():
    rss, fds, threads = read_process()
    assert rss > 1000
    r, w = os.pipe()
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        _, fds2, threads2 = read_process()
    finally:
        stop.set()
        t.join()
        os.close(r)
        os.close(w)
    assert fds2 == fds + 2
    assert threads2 == threads + 1


def _received(kind, key, txn, status="completed"):
    payload = {"transaction_no": txn} | ({"status": status} if kind == "transaction" else {})
    return {"kind": kind, "idempotency_key": key, "payload": payload}


OUTBOX = [("transaction", "transaction-T1-completed", "done", "T1/completed"), ("rating", "rating-T1", "done", "T1"),
          ("transaction", "transaction-T2-completed", "done", "T2/completed"), ("rating", "rating-T2", "done", "T2"),
          ("device_event", "ev-1", "ready", "ev-1")]  # other kinds are not judged
JOURNAL = [("T1", "completed"), ("T2", "completed")]
RECEIVED = [_received("transaction", "transaction-T1-completed", "T1"), _received("rating", "rating-T1", "T1"),
            _received("transaction", "transaction-T2-completed", "T2"), _received("rating", "rating-T2", "T2")]


def test_everything_received_once_is_consistent():
    v = judge_delivery(OUTBOX, JOURNAL, RECEIVED)
    assert v.ok, v.as_dict()
    assert v.checked == {"transaction": 2, "rating": 2}
    assert v.summary().startswith("consistent: 2 rating, 2 transaction")


def test_a_payment_confirmed_later_is_two_matters_not_a_double():
    outbox = [*OUTBOX, ("transaction", "transaction-T2-paid_unconfirmed", "done", "T2/paid_unconfirmed")]
    received = [*RECEIVED, _received("transaction", "transaction-T2-paid_unconfirmed", "T2", "paid_unconfirmed")]
    assert judge_delivery(outbox, JOURNAL, received).ok


def test_a_lost_row_a_doubled_matter_and_a_phantom_are_each_caught():
    received = RECEIVED[:3] + [_received("rating", "rating-T2-again", "T2"), _received("rating", "rating-T2", "T2"),
                               _received("transaction", "transaction-T9-completed", "T9")]
    v = judge_delivery(OUTBOX[:3] + [("rating", "rating-T2", "done", "T2")], JOURNAL, received)
    assert not v.ok
    assert sorted(v.unexpected) == ["rating-T2-again", "transaction-T9-completed"]
    assert "rating:T2" in v.doubled
    v2 = judge_delivery(OUTBOX, JOURNAL, RECEIVED[:3])
    assert v2.lost == ["rating-T2"]
    assert v2.summary().startswith("INCONSISTENT: 1 lost")


def test_pending_failed_and_unjournalled_rows_are_not_consistent():
    v = judge_delivery([("transaction", "transaction-T1-completed", "inflight", "T1/completed"),
                        ("rating", "rating-T1", "failed", "T1")],
                       [("T1", "completed"), ("T3", "completed")],
                       [_received("transaction", "transaction-T1-completed", "T1"), _received("rating", "rating-T1", "T1")])
    assert v.pending == ["transaction-T1-completed"]
    assert v.failed == ["rating-T1"]
    assert v.unjournalled == ["T3/completed"]
    assert not v.ok
