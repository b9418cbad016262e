"""Power cuts mid-journey: a terminal process is SIGKILLed at random points while it records
payments and ratings and delivers them; it is restarted each time. At the end every payment
and every rating has reached the backend exactly once, and nothing is left behind or failed.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from kiosk.sim.backend import ReferenceBackend
from kiosk.store.journal import Journal
from kiosk.store.outbox import Outbox

TERMINAL, SECRET = "T-CRASH", b"crash-secret"
N = 400  # payments, each followed by a rating: 800 outbox rows
MAX_RUNS = 80
BUDGET_S = 90

# The terminal: resumes where the journal says it stopped, records payment i (journal +
# outbox "transaction" in one transaction), then queues rating i, while the worker delivers.
TERMINAL_SCRIPT = textwrap.dedent(
    """
    import hashlib, sys, time
    from pathlib import Path
    from kiosk.backend.client import BackendClient
    from kiosk.backend.delivery import DeliveryWorker
    from kiosk.store.journal import Journal
    from kiosk.store.outbox import Outbox

    url, terminal, secret, db, n = sys.argv[1], sys.argv[2], sys.argv[3].encode(), Path(sys.argv[4]), int(sys.argv[5])
    outbox = Outbox(db)
    journal = Journal(outbox)
    client = BackendClient(url, terminal, secret, connect_timeout=1, read_timeout=3)
    worker = DeliveryWorker(outbox, client, backoff_base_s=0.05, backoff_max_s=0.5, idle_poll_s=0.1)
    worker.start()  # rows in flight at the last kill are ready again
    done = outbox.query("SELECT COUNT(*) FROM journal")[0][0]
    start = max(0, done - 1)  # redo the last one: its rating may not have been queued
    for i in range(start, n):
        journal.record(transaction_no=f"TX{i:05d}", item_id="water_bill", item_name="水费缴纳",
                       status="completed", masked_name="王**", masked_id="370***********2819",
                       amount_fen=1000 + i, order_no=f"PO-SCRIPT-{i:05d}")
        outbox.put("rating", {
            "transaction_no": f"TX{i:05d}", "area_code": "370921", "item_id": "water_bill",
            "item_name": "水费缴纳", "evaluator_hash": hashlib.sha256(str(i).encode()).hexdigest(),
            "satisfaction": 1 + i % 5, "rated_at": "2026-11-23T02:00:00+08:00",
        }, f"rating-{i:05d}")
        time.sleep(0.02)  # a resident's pace, compressed: lets the worker interleave with the puts
    left = worker.flush(timeout_s=30)
    worker.stop()
    sys.exit(0 if left == 0 else 3)
    """
)


def test_sigkill_at_random_points_loses_and_doubles_nothing(tmp_path):
    backend = ReferenceBackend(tmp_path / "ref", {TERMINAL: SECRET})
    url = backend.start()
    script = tmp_path / "terminal.py"
    script.write_text(TERMINAL_SCRIPT)
    db = tmp_path / "terminal" / "outbox.db"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    rng = random.Random(20261123)
    kills = 0
    finished = False
    t0 = time.monotonic()
    try:
        for _run in range(MAX_RUNS):
            assert time.monotonic() - t0 < BUDGET_S, f"not finished after {kills} kills"
            proc = subprocess.Popen(
                [sys.executable, str(script), url, TERMINAL, SECRET.decode(), str(db), str(N)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            # the first runs are killed often; later runs get longer so the test converges
            delay = rng.uniform(0.4, 1.2) if kills < 30 else None
            try:
                rc = proc.wait(timeout=delay if delay is not None else 60)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=10)
                kills += 1
                continue
            stderr = proc.stderr.read().decode() if proc.stderr else ""
            assert rc == 0, f"terminal exited {rc}: {stderr[-2000:]}"
            finished = True
            break
        assert finished, f"still not done after {MAX_RUNS} runs"
    finally:
        backend.stop()

    assert kills >= 10, "the processes were not killed often enough to prove anything"
    transactions = backend.received("transaction")
    ratings = backend.received("rating")
    tx_keys = [t["idempotency_key"] for t in transactions]
    rating_keys = [r["idempotency_key"] for r in ratings]
    assert len(tx_keys) == len(set(tx_keys)) == N, "a payment was lost or arrived twice"
    assert len(rating_keys) == len(set(rating_keys)) == N, "a rating was lost or arrived twice"
    assert set(tx_keys) == {f"transaction-TX{i:05d}-completed" for i in range(N)}
    assert set(rating_keys) == {f"rating-{i:05d}" for i in range(N)}
    # payments arrived in the order they were made (one stream, FIFO)
    assert tx_keys == sorted(tx_keys)
    amounts = {t["payload"]["transaction_no"]: t["payload"]["amount_fen"] for t in transactions}
    assert all(amounts[f"TX{i:05d}"] == 1000 + i for i in range(N))

    outbox = Outbox(db)
    stats = outbox.stats()
    assert stats["depth"] == 0 and stats["failed"] == 0 and stats["done"] == 2 * N
    assert len(Journal(outbox).recent(1)) == N
    outbox.close()
    print(
        f"\n{kills} SIGKILLs, {len(tx_keys)} payments and {len(rating_keys)} ratings each delivered once; "
        f"{backend.store.replays} resends answered from the idempotency store"
    )
    backend.close()
