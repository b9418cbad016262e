"""The terminal gateway under a county's load: figures, not a pass/fail test.

    .venv/bin/python bench/bench_gateway.py [--terminals 500] [--seconds 40] [--speedups 1,5] [--quick]

Simulates ``--terminals`` terminals, each with its own connection and secret: a heartbeat
every 30 s and a session every 3 minutes (a record query, a certificate, the transaction and
the rating: four signed requests), at the real rate (speed-up 1) and compressed in time (each
of ``--speedups``) so the run is a load test, for ``--seconds`` of wall time each, then stops. Every request is the real terminal client
(``BackendClient``) against ``kiosk gateway serve`` in processes of their own, with the
simulated platform behind, on SQLite and on a private PostgreSQL (Debian's server, durable:
fsync on). Printed per set-up: requests per second, p50/p95 latency, errors, and the gateway's
CPU (all its processes) per 100 terminals at the real, uncompressed rate; then the same as
ratios to the first set-up, and the processes a county of 2,000 terminals would need.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import os
import queue
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kiosk.backend import payloads  # noqa: E402
from kiosk.backend.client import BackendClient  # noqa: E402
from kiosk.gateway.store import Store  # noqa: E402
from kiosk.sim.demo_data import RESIDENTS  # noqa: E402

#: residents with a record, so every certificate can be issued
INSURED = [r for r in RESIDENTS if r.pension or r.medical]
HEARTBEAT_S = 30.0
SESSION_S = 180.0
TICKS = os.sysconf("SC_CLK_TCK")
#: the share of a core one gateway process is planned at (headroom for bursts and the GIL)
PLANNED_CORE_SHARE = 0.6


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


def _tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of ``pid`` and its children, from /proc."""
    children: dict[int, list[int]] = {}
    stats: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        stats[int(entry.name)] = (int(fields[11]) + int(fields[12])) / TICKS
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        total += stats.get(p, 0.0)
        todo.extend(children.get(p, []))
    return total


@dataclass
class Result:
    label: str
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    lags: list[float] = field(default_factory=list)
    cpu_s: float = 0.0
    db_cpu_s: float | None = None  # the PostgreSQL server's processes
    terminals: int = 0
    speedup: float = 1.0
    first_errors: list[str] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_per_100(self) -> float:
        """The gateway's share of one core per 100 terminals at the real rate."""
        return self.cpu_s / self.seconds / self.speedup / (self.terminals / 100)

    @property
    def db_cpu_per_100(self) -> str:
        if self.db_cpu_s is None:
            return "(in the gateway)"
        return f"{100 * self.db_cpu_s / self.seconds / self.speedup / (self.terminals / 100):.1f} %"


def _serve(database: str, platform: Path, workers: int, threads: int) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "gateway", "serve", "--port", "0", "--database", database,
         "--data", str(platform), "--workers", str(workers), "--threads", str(threads)],
        env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        proc.kill()
        raise RuntimeError("the gateway did not start")
    import requests

    deadline = time.monotonic() + 30
    while True:  # the URL is printed once the port is bound; the workers start right after
        try:
            requests.get(url + "/v1/health", timeout=2)
            break
        except requests.RequestException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    return proc, url


def run(label: str, database: str, *, terminals: int, seconds: float, speedup: float, workers: int,
        threads: int = 16, clients: int = 48, db_pid: int | None = None) -> Result:
    tmp = Path(tempfile.mkdtemp(prefix="kiosk-bench-gw-"))
    ids = [f"NY-370921-{n:04d}" for n in range(1, terminals + 1)]
    secrets_ = {tid: f"{tid}-bench-secret-0123456789".encode() for tid in ids}
    store = Store(database, pool_size=2)
    for n, tid in enumerate(ids):
        store.provision(tid, secrets_[tid], township=f"乡镇{n % 12:02d}")
    store.close()
    proc, url = _serve(database, tmp / "platform", workers, threads)
    result = Result(label, terminals=terminals, speedup=speedup)
    lock = threading.Lock()
    jobs: queue.Queue = queue.Queue()
    pool = {tid: BackendClient(url, tid, secrets_[tid], connect_timeout=5, read_timeout=30) for tid in ids}
    rng = random.Random(7)
    # every terminal's events over the run, phases spread at random: (due, seq, terminal, kind)
    events: list[tuple[float, int, str, str]] = []
    hb, session = HEARTBEAT_S / speedup, SESSION_S / speedup
    for tid in ids:
        t = rng.uniform(0, hb)
        while t < seconds:
            events.append((t, len(events), tid, "heartbeat"))
            t += hb
        t = rng.uniform(0, session)
        while t < seconds:
            events.append((t, len(events), tid, "session"))
            t += session * rng.uniform(0.7, 1.3)
    heapq.heapify(events)
    counter = iter(range(10**9))

    def timed(call, *args) -> None:
        t0 = time.perf_counter()
        try:
            call(*args)
            ok = True
        except Exception as e:  # noqa: BLE001 - counted, the run goes on
            ok = False
            with lock:
                if len(result.first_errors) < 5:
                    result.first_errors.append(f"{type(e).__name__}: {e}"[:200])
        took = time.perf_counter() - t0
        with lock:
            result.requests += 1
            result.latencies.append(took)
            result.errors += 0 if ok else 1

    def work() -> None:
        while True:
            item = jobs.get()
            if item is None:
                return
            due, tid, kind = item
            with lock:
                result.lags.append(time.perf_counter() - due)
            c, n = pool[tid], next(counter)
            if kind == "heartbeat":
                beat = payloads.heartbeat(software_version="0.1.0", devices={"printer": "online", "idcard": "online"},
                                          paper="full", outbox_depth=0)
                timed(c.heartbeat, beat, f"hb-{n}")
            else:
                a_session(c, f"{tid}-{n}", n)

    def a_session(c: BackendClient, txn: str, n: int) -> None:
        resident = INSURED[n % len(INSURED)]
        now = time.strftime("%Y-%m-%dT%H:%M:%S+08:00")
        timed(c.insurance_info, resident.id_number)
        timed(c.certificate, resident.id_number, "rights_record", f"cert-{txn}")
        timed(c.deliver, "transaction", {"transaction_no": txn, "item_id": "rights_record",
                                         "item_name": "个人权益记录单", "status": "completed",
                                         "completed_at": now}, f"txn-{txn}")
        timed(c.deliver, "rating", {"transaction_no": txn, "area_code": "370921", "item_id": "rights_record",
                                    "item_name": "个人权益记录单", "evaluator_hash": f"{n:064x}",
                                    "satisfaction": 1 + n % 5, "rated_at": now}, f"rating-{txn}")

    workers_ = [threading.Thread(target=work, daemon=True) for _ in range(clients)]
    for w in workers_:
        w.start()
    cpu0 = _tree_cpu(proc.pid)
    db0 = _tree_cpu(db_pid) if db_pid else 0.0
    start = time.perf_counter()
    while events:
        due, _seq, tid, kind = heapq.heappop(events)
        wait = start + due - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        jobs.put((start + due, tid, kind))
    for _ in workers_:
        jobs.put(None)
    for w in workers_:
        w.join()
    result.seconds = time.perf_counter() - start
    result.cpu_s = _tree_cpu(proc.pid) - cpu0
    if db_pid:
        result.db_cpu_s = _tree_cpu(db_pid) - db0
    for c in pool.values():
        c.close()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    return result


def table(results: list[Result]) -> str:
    base = results[0]
    head = ("| set-up | requests/s | p50 ms | p95 ms | errors | gateway CPU per 100 terminals (real rate) "
            "| database CPU per 100 | requests/s ÷ base | p95 ÷ base | CPU/100 ÷ base |")
    lines = [head, "|" + "---|" * 10]
    for r in results:
        p50, p95 = _pct(r.latencies, 0.5) * 1e3, _pct(r.latencies, 0.95) * 1e3
        lines.append(
            f"| {r.label} | {r.rps:.0f} | {p50:.1f} | {p95:.1f} | {r.errors} | {100 * r.cpu_per_100:.1f} % of a core "
            f"| {r.db_cpu_per_100} "
            f"| {r.rps / base.rps:.2f} | {p95 / (_pct(base.latencies, 0.95) * 1e3):.2f} "
            f"| {r.cpu_per_100 / base.cpu_per_100:.2f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terminals", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=40.0, help="wall time of each run")
    parser.add_argument("--speedups", default="1,5", help="time compressions, comma separated (1: the real rate)")
    parser.add_argument("--quick", action="store_true", help="100 terminals, 10 s, SQLite only")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.quick:
        args.terminals, args.seconds, args.speedups = 100, 10.0, "1"
    n = args.terminals
    speedups = [float(x) for x in args.speedups.split(",")]
    real_rps = n / HEARTBEAT_S + 4 * n / SESSION_S
    print(f"{n} terminals: {real_rps:.1f} requests/s at the real rate; speed-ups {speedups}, "
          f"{args.seconds:g} s per run", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-") as d:
        for k, speedup in enumerate(speedups):
            results.append(run(f"SQLite, 1 process, x{speedup:g}", f"sqlite:///{d}/gw{k}.db", terminals=n,
                               seconds=args.seconds, speedup=speedup, workers=1))
            print(table(results), flush=True)
        if not args.quick:
            from kiosk.sim.postgres import PostgresUnavailable, private_postgres

            try:
                with private_postgres(durable=True) as pg:
                    postmaster = int((pg.folder / "data" / "postmaster.pid").read_text().split()[0])
                    for speedup in speedups:
                        for workers in (1, 2):
                            url = pg.create_database(f"bench{workers}x{int(speedup)}")
                            label = f"PostgreSQL, {workers} process{'es' if workers > 1 else ''}, x{speedup:g}"
                            results.append(run(label, url, terminals=n, seconds=args.seconds, speedup=speedup,
                                               workers=workers, db_pid=postmaster))
                            print(table(results), flush=True)
            except PostgresUnavailable as e:
                print(f"PostgreSQL skipped: {e}")
    print()
    print(table(results))
    for r in results:
        if r.first_errors:
            print(f"{r.label}: first errors: {r.first_errors}")
    real = [r for r in results if r.speedup == 1] or results
    worst = max(r.cpu_per_100 for r in real)
    cores = worst * 20
    procs = max(1, math.ceil(cores / PLANNED_CORE_SHARE))
    print(f"\n2,000 terminals at the real rate: {cores:.2f} core(s) of gateway CPU at the highest figure above "
          f"({100 * worst:.1f} % per 100); at {PLANNED_CORE_SHARE:.0%} of a core per process that is {procs} "
          f"process(es), {procs + 1} with one spare for a restart or a failed machine.")
    for r in results:
        lag = _pct(r.lags, 0.95) * 1e3
        if lag > 50:
            print(f"{r.label}: the load generator fell behind (p95 start lag {lag:.0f} ms): the machine was saturated")
    if args.json:
        args.json.write_text(json.dumps([{"label": r.label, "rps": r.rps, "p50_ms": _pct(r.latencies, .5) * 1e3,
                                          "p95_ms": _pct(r.latencies, .95) * 1e3, "errors": r.errors,
                                          "cpu_per_100": r.cpu_per_100} for r in results], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
