"""Backend and outbox numbers on this machine: a table, not a pass/fail test.

    .venv/bin/python bench/bench_backend.py [--quick]

* outbox put latency (one committed, fsynced transaction per put: synchronous=FULL, WAL)
* delivery throughput to the reference backend on loopback (signed, idempotent POSTs)
* API round trips on loopback (p50/p95) for a query, a keyed write and an outbox delivery
* a restarted terminal draining a backlog of 1,000 rows: a new process, from start to empty
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kiosk.backend.client import BackendClient  # noqa: E402
from kiosk.backend.delivery import DeliveryWorker  # noqa: E402
from kiosk.sim.backend import ReferenceBackend  # noqa: E402
from kiosk.sim.demo_data import BY_KEY  # noqa: E402
from kiosk.store.outbox import Outbox  # noqa: E402

TERMINAL, SECRET = "T-BENCH", b"bench-secret"


def _rating(n: int) -> dict:
    return {
        "transaction_no": f"T{n:06d}",
        "area_code": "370921",
        "item_id": "water_bill",
        "item_name": "水费缴纳",
        "evaluator_hash": f"{n:064x}",
        "satisfaction": 1 + n % 5,
        "reason": "x",
        "rated_at": "2026-11-23T02:00:00+08:00",
    }


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def _ms(values: list[float]) -> str:
    return f"p50 {_pct(values, 0.5) * 1e3:6.2f} ms   p95 {_pct(values, 0.95) * 1e3:6.2f} ms   max {max(values) * 1e3:6.2f} ms"


def bench_put(tmp: Path, n: int) -> list[float]:
    ob = Outbox(tmp / "put.db")
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        ob.put("rating", _rating(i))
        times.append(time.perf_counter() - t0)
    ob.close()
    return times


def bench_delivery(tmp: Path, url: str, n: int) -> float:
    ob = Outbox(tmp / "deliver.db")
    for i in range(n):
        ob.put("rating", _rating(i), f"thr-{i}")
    client = BackendClient(url, TERMINAL, SECRET)
    worker = DeliveryWorker(ob, client)
    t0 = time.perf_counter()
    left = worker.flush(timeout_s=300)
    took = time.perf_counter() - t0
    assert left == 0, f"{left} rows left"
    client.close()
    ob.close()
    return n / took


def bench_round_trips(url: str, n: int) -> dict[str, list[float]]:
    client = BackendClient(url, TERMINAL, SECRET)
    wang = BY_KEY["wang_jianguo"].id_number
    out: dict[str, list[float]] = {
        "query: insurance_info": [],
        "query: contributions (1 year)": [],
        "keyed write: certificate": [],
        "outbox delivery: rating": [],
        "unsigned GET: health": [],
    }
    client.health()  # warm the connection
    for i in range(n):
        for name, call in (
            ("query: insurance_info", lambda: client.insurance_info(wang)),
            ("query: contributions (1 year)", lambda: client.contributions(wang, 2020)),
            (
                "keyed write: certificate",
                lambda i=i: client.certificate(wang, "contribution_proof", f"rt-cert-{i}"),
            ),
            (
                "outbox delivery: rating",
                lambda i=i: client.deliver("rating", _rating(i), f"rt-rating-{i}"),
            ),
            ("unsigned GET: health", client.health),
        ):
            t0 = time.perf_counter()
            call()
            out[name].append(time.perf_counter() - t0)
    client.close()
    return out


DRAIN = textwrap.dedent(
    """
    import sys, time
    t0 = time.perf_counter()
    from pathlib import Path
    from kiosk.backend.client import BackendClient
    from kiosk.backend.delivery import DeliveryWorker
    from kiosk.store.outbox import Outbox
    ob = Outbox(Path(sys.argv[2]))
    worker = DeliveryWorker(ob, BackendClient(sys.argv[1], sys.argv[3], sys.argv[4].encode()))
    worker.start()  # recovers the rows the "crash" left in flight
    while ob.depth():
        time.sleep(0.005)
    worker.stop()
    print(time.perf_counter() - t0)
    """
)


def bench_restart_drain(tmp: Path, url: str, n: int) -> tuple[float, float]:
    db = tmp / "backlog.db"
    ob = Outbox(db)
    for i in range(n):
        ob.put(
            "rating" if i % 2 else "transaction",
            _rating(i)
            if i % 2
            else {
                "transaction_no": f"TX{i:06d}",
                "item_id": "water_bill",
                "item_name": "水费缴纳",
                "status": "completed",
                "amount_fen": 100 + i,
                "completed_at": "2026-11-23T02:00:00+08:00",
            },
            f"backlog-{i}",
        )
    for _ in range(5):
        ob.claim()  # in flight when the power went
    ob.close()
    script = tmp / "drain.py"
    script.write_text(DRAIN)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t0 = time.perf_counter()
    r = subprocess.run(
        [sys.executable, str(script), url, str(db), TERMINAL, SECRET.decode()],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    wall = time.perf_counter() - t0
    return wall, float(r.stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts (a smoke run)")
    args = parser.parse_args()
    n_put, n_thr, n_rt, n_drain = (200, 300, 50, 1000) if args.quick else (1000, 2000, 300, 1000)
    with tempfile.TemporaryDirectory(prefix="bench-backend-", dir=os.environ.get("TMPDIR")) as d:
        tmp = Path(d)
        backend = ReferenceBackend(tmp / "ref", {TERMINAL: SECRET})
        url = backend.start()
        try:
            puts = bench_put(tmp, n_put)
            throughput = bench_delivery(tmp, url, n_thr)
            trips = bench_round_trips(url, n_rt)
            wall, inside = bench_restart_drain(tmp, url, n_drain)
        finally:
            backend.close()
    print(f"{'measure':<44} result")
    print("-" * 100)
    print(f"{f'outbox put, fsync per put (n={n_put})':<44} {_ms(puts)}")
    print(f"{f'delivery throughput, loopback (n={n_thr})':<44} {throughput:8.0f} rows/s")
    for name, values in trips.items():
        print(f"{f'round trip, {name} (n={n_rt})':<44} {_ms(values)}")
    print(
        f"{f'restart + drain {n_drain} rows (new process)':<44} {wall:6.2f} s wall, "
        f"{inside:6.2f} s from first import to empty"
    )
    print(
        f"\npython {sys.version.split()[0]}, {os.cpu_count()} CPUs, mean put {statistics.mean(puts) * 1e3:.2f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
