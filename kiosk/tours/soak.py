"""The soak run's measuring and judging: process samples, growth per 1,000 sessions, and the
verdict on what reached the backend. No Kivy here; ``soak_sessions`` and ``soak_kills`` run the
sessions, ``kiosk soak`` (``kiosk/commands/soak.py``) takes the arguments and prints the report.

Growth is the least-squares slope of a resource (RSS, open descriptors, threads) against the
number of sessions served, after a warm-up (caches, lazily built screens and the allocator's
first arenas are not leaks). A kiosk that runs for months must show a slope near zero.

The delivery verdict compares the terminal's own records (journal and outbox, by idempotency
key) with what the backend says it received: every key the terminal queued arrived exactly
once, nothing arrived that the terminal never queued, and nothing is left pending or failed.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: the resources sampled, in report order
METRICS = ("rss_kib", "fds", "threads")


@dataclass(frozen=True)
class Sample:
    sessions: int  # sessions finished when the sample was taken
    elapsed_s: float
    rss_kib: int
    fds: int
    threads: int


def read_process(pid: int | str = "self") -> tuple[int, int, int]:
    """(VmRSS in KiB, open file descriptors, threads) of a process, from ``/proc``."""
    rss = threads = 0
    with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return rss, fds, threads


def sample(sessions: int, elapsed_s: float, pid: int | str = "self") -> Sample:
    rss, fds, threads = read_process(pid)
    return Sample(sessions, round(elapsed_s, 2), rss, fds, threads)


def slope(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of y over x; 0.0 when there are fewer than two distinct x."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return 0.0
    return sum((x - mx) * (y - my) for x, y in points) / sxx


def growth_per_1000(samples: Sequence[Sample], warmup_sessions: int) -> dict[str, float | None]:
    """Each metric's growth per 1,000 sessions over the samples after the warm-up.

    None when fewer than three samples lie after the warm-up: a slope from two points is noise."""
    kept = [s for s in samples if s.sessions >= warmup_sessions]
    if len(kept) < 3:
        return dict.fromkeys(METRICS)
    return {m: round(slope([(s.sessions, getattr(s, m)) for s in kept]) * 1000, 2) for m in METRICS}


def warmup_for(sessions: int) -> int:
    """Sessions left out of the slope: a tenth of the run, at least 50, at most 500."""
    return max(50, min(500, sessions // 10))


# --- what reached the backend ----------------------------------------------------------------


@dataclass
class Verdict:
    """Terminal records against backend receipts, per kind. ``ok`` when all lists are empty."""

    checked: dict[str, int] = field(default_factory=dict)  # kind -> keys the terminal queued
    lost: list[str] = field(default_factory=list)  # queued, never received
    doubled: list[str] = field(default_factory=list)  # one matter received more than once
    unexpected: list[str] = field(default_factory=list)  # received, never queued
    pending: list[str] = field(default_factory=list)  # still waiting or in flight
    failed: list[str] = field(default_factory=list)  # refused by the backend for good
    unjournalled: list[str] = field(default_factory=list)  # journal rows (txn/status) with no outbox row

    @property
    def ok(self) -> bool:
        return not (self.lost or self.doubled or self.unexpected or self.pending or self.failed or self.unjournalled)

    def summary(self) -> str:
        if self.ok:
            counts = ", ".join(f"{n} {kind}" for kind, n in sorted(self.checked.items()))
            return f"consistent: {counts}; each received exactly once, nothing pending or failed"
        parts = [f"{len(v)} {name}" for name, v in self.problems().items() if v]
        return "INCONSISTENT: " + ", ".join(parts)

    def problems(self) -> dict[str, list[str]]:
        d = asdict(self)
        d.pop("checked")
        return d

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "summary": self.summary(), "checked": self.checked,
                **{k: v[:20] for k, v in self.problems().items()}}


def matter(kind: str, payload: dict[str, Any], key: str) -> str:
    """What one delivered row is about: a rating is its transaction's; a transaction row is
    the transaction in one status (a payment first ``paid_unconfirmed``, then ``completed``,
    is two rows by design)."""
    txn = str(payload.get("transaction_no", key))
    return f"{txn}/{payload.get('status', '')}" if kind == "transaction" else txn


def judge_delivery(
    outbox_rows: Iterable[tuple[str, str, str, str]],
    journal: Iterable[tuple[str, str]],
    received: Iterable[dict[str, Any]],
    kinds: tuple[str, ...] = ("transaction", "rating"),
) -> Verdict:
    """Compare the terminal's records with the backend's.

    ``outbox_rows``: (kind, key, state, matter) of every outbox row of every terminal run;
    ``journal``: (transaction number, status) of every journal row;
    ``received``: the backend's received rows (``kind``, ``idempotency_key``, ``payload``)."""
    v = Verdict()
    queued: dict[str, set[str]] = {k: set() for k in kinds}
    transaction_matters: set[str] = set()
    for kind, key, state, what in outbox_rows:
        if kind not in queued:
            continue
        queued[kind].add(key)
        if kind == "transaction":
            transaction_matters.add(what)
        if state in ("ready", "inflight"):
            v.pending.append(key)
        elif state == "failed":
            v.failed.append(key)
    # the journal row and its outbox row are written in one SQLite transaction
    v.unjournalled = sorted(f"{t}/{st}" for t, st in journal if f"{t}/{st}" not in transaction_matters)
    arrived: dict[str, Counter[str]] = {k: Counter() for k in kinds}
    matters: dict[str, Counter[str]] = {k: Counter() for k in kinds}
    for row in received:
        kind = row.get("kind")
        if kind not in arrived:
            continue
        arrived[kind][row["idempotency_key"]] += 1
        # one matter under two keys would be a double the backend's idempotency cannot catch
        matters[kind][matter(kind, row.get("payload") or {}, row["idempotency_key"])] += 1
    for kind in kinds:
        v.checked[kind] = len(queued[kind])
        v.lost += sorted(queued[kind] - set(arrived[kind]))
        v.unexpected += sorted(set(arrived[kind]) - queued[kind])
        doubled = {f"{kind}:{k}" for k, n in arrived[kind].items() if n > 1}
        doubled |= {f"{kind}:{m}" for m, n in matters[kind].items() if n > 1}
        v.doubled += sorted(doubled)
    return v


def terminal_records(outbox_path: Path) -> tuple[list[tuple[str, str, str, str]], list[tuple[str, str]]]:
    """(outbox rows as ``judge_delivery`` takes them, journal rows) from a terminal's database."""
    import json

    from kiosk.store.outbox import Outbox

    outbox = Outbox(outbox_path)
    try:
        rows = [(str(k), str(key), str(state), matter(str(k), json.loads(payload), str(key)))
                for k, key, state, payload in outbox.query("SELECT kind, key, state, payload FROM outbox")]
        try:
            journal = [(str(t), str(st)) for t, st in outbox.query("SELECT transaction_no, status FROM journal")]
        except Exception:  # noqa: BLE001 - a terminal that never journalled has no table
            journal = []
    finally:
        outbox.close()
    return rows, journal


# --- the report --------------------------------------------------------------------------------


def report_table(report: dict[str, Any]) -> str:
    """The printed summary of a soak report."""
    growth = report.get("growth_per_1000", {})
    first = report["samples"][0] if report.get("samples") else {}
    last = report["samples"][-1] if report.get("samples") else {}
    lines = [
        f"soak: {report['sessions_done']} sessions ({report['mode']}) in {report['elapsed_s']:.0f} s, "
        f"{report['sessions_done'] / max(report['elapsed_s'], 1e-9):.1f}/s; outcomes {report.get('outcomes', {})}",
        f"warm-up {report['warmup_sessions']} sessions; slope over {report['samples_after_warmup']} samples",
        "",
        "| resource | first sample | last sample | growth per 1,000 sessions |",
        "|---|---|---|---|",
    ]
    units = {"rss_kib": "RSS (KiB)", "fds": "open fds", "threads": "threads"}
    for m in METRICS:
        g = growth.get(m)
        lines.append(f"| {units[m]} | {first.get(m, '-')} | {last.get(m, '-')} | {'-' if g is None else g} |")
    if report.get("faults"):
        lines += ["", "faults injected: " + ", ".join(f"{k} {n}" for k, n in sorted(report["faults"].items()))]
    if report.get("delivery"):
        lines.append("delivery: " + report["delivery"]["summary"])
    return "\n".join(lines)
