"""``kiosk soak``: thousands of resident sessions through the real journey, with faults.

By default the sessions run through ``ScriptedKiosk`` (no window): real drivers against the
emulated devices, the real backend client against the reference backend on loopback, the real
outbox. ``--window`` runs them through the offscreen Kivy window with real touches instead,
where texture and layout leaks would show. Every ``--sample-every`` sessions the process's RSS,
open descriptors and threads are sampled; the report gives their growth per 1,000 sessions.

``--faults`` injects, at seeded random points: printer paper out (and back) mid-job, the ID
card pulled mid-item, the ID reader unplugged and plugged back, the backend stopped and
started, the backend's answer lost after it took effect; then a phase where the terminal runs
as a subprocess that is killed with SIGKILL and restarted. At the end the backend's received
transactions and ratings are compared with the terminals' journals and outboxes: nothing lost,
nothing doubled. Exit status 1 when they disagree.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import tempfile
import time
from pathlib import Path

from kiosk.config import KioskConfig, load_config
from kiosk.tours.soak import (
    Sample,
    growth_per_1000,
    judge_delivery,
    report_table,
    terminal_records,
    warmup_for,
)
from kiosk.tours.soak_kills import run_kills, run_terminal_child
from kiosk.tours.soak_sessions import Plan, run_scripted, run_window


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("soak", help="run thousands of sessions, sample memory/fds/threads, inject faults")
    p.add_argument("--config", help="config file (default config/kiosk.toml); devices are simulated")
    p.add_argument("--sessions", type=int, default=1000, help="sessions to run (default 1000)")
    p.add_argument("--faults", action="store_true", help="inject device, backend and kill -9 faults")
    p.add_argument("--fault-rate", type=float, default=0.05, help="share of sessions with a fault (default 0.05)")
    p.add_argument("--kills", type=int, default=6, help="with --faults: SIGKILLs of the terminal process (default 6)")
    p.add_argument("--sample-every", type=int, default=50, metavar="K", help="sample every K sessions (default 50)")
    p.add_argument("--window", action="store_true", help="through the offscreen Kivy window, with real touches")
    p.add_argument("--warmup", type=int, metavar="N",
                   help="sessions left out of the growth slope (default a tenth of the run, 50 to 500)")
    p.add_argument("--seed", type=int, default=20261123, help="seed of the fault and resident choices")
    p.add_argument("--max-minutes", type=float, default=120, help="stop early after this long (default 120)")
    p.add_argument("--dir", type=Path, help="working folder (default a new one under $TMPDIR)")
    p.add_argument("--out", type=Path, help="write the JSON report here")
    p.add_argument("--terminal-child", type=Path, help=argparse.SUPPRESS)  # the kill -9 phase's terminal
    p.set_defaults(func=run)


# --- set-up ----------------------------------------------------------------------------------


def soak_config(config: KioskConfig, folder: Path, backend_url: str) -> KioskConfig:
    """The config with simulated devices, a private data dir and secret, and the given backend."""
    from kiosk.commands.demo import simulated

    config = config.model_copy(update={
        "storage": config.storage.model_copy(update={"data_dir": (folder / "var").resolve()}),
        "backend": config.backend.model_copy(update={"secret_file": (folder / "terminal.secret").resolve(),
                                                     "secret_env": None}),
    })
    return simulated(config, backend_url)


# --- the command -------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    if args.terminal_child is not None:
        logging.basicConfig(level=logging.WARNING)
        return run_terminal_child(args.terminal_child, args.sessions, args.seed)
    from kiosk.bootstrap import ensure_secret
    from kiosk.sim.backend.server import ReferenceBackend

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.sessions < 1 or args.sample_every < 1:
        raise SystemExit("kiosk soak: --sessions and --sample-every must be at least 1")
    if args.faults and args.window:
        raise SystemExit("kiosk soak: --faults runs without --window (the faults are injected between script steps)")
    folder = args.dir or Path(tempfile.mkdtemp(prefix="kiosk-soak-", dir=os.environ.get("TMPDIR")))
    folder.mkdir(parents=True, exist_ok=True)
    base = load_config(args.config)
    config = soak_config(base, folder / "terminal", "http://127.0.0.1:1")
    secret = ensure_secret(config)
    backend = ReferenceBackend(folder / "backend", {config.terminal.id: secret})
    url = backend.start("127.0.0.1", 0)
    config = soak_config(base, folder / "terminal", url)
    plan = Plan(sessions=args.sessions, sample_every=args.sample_every, seed=args.seed,
                max_minutes=args.max_minutes, faults=args.faults, fault_rate=args.fault_rate)
    t0 = time.monotonic()
    try:
        if args.window:
            part = run_window(plan, config, t0, Path(args.dir or config.data_dir) / "tour")
        else:
            part = run_scripted(plan, config, backend, t0)
        kills = None
        if args.faults and not args.window:
            kills = run_kills(args.kills, args.seed, config, folder / "killed-terminal", random.Random(args.seed + 1))
        outboxes = [config.data_dir / "outbox.sqlite3"] + ([kills["outbox"]] if kills else [])
        rows, journal = [], []
        for path in outboxes:
            r, j = terminal_records(path)
            rows += r
            journal += j
        verdict = judge_delivery(rows, journal, backend.received())
    finally:
        backend.close()
    elapsed = time.monotonic() - t0
    samples: list[Sample] = part.pop("samples")
    warmup = args.warmup if args.warmup is not None else warmup_for(part["sessions_done"])
    report = {
        "mode": "window" if args.window else "scripted",
        **part,
        "elapsed_s": round(elapsed, 1),
        "sample_every": args.sample_every,
        "warmup_sessions": warmup,
        "samples_after_warmup": sum(1 for s in samples if s.sessions >= warmup),
        "growth_per_1000": growth_per_1000(samples, warmup),
        "rss_kib_after": _rss_after(samples, (100, 1000, 5000)),
        "samples": [s.__dict__ for s in samples],
        "kill_phase": {k: v for k, v in (kills or {}).items() if k != "outbox"} or None,
        "delivery": verdict.as_dict(),
        "folder": str(folder),
    }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2))
    print(report_table(report))
    if kills:
        print(f"kill -9 phase: {kills['kills']} kills, final run exit {kills['final_exit']}")
    ok = verdict.ok and (kills is None or kills["final_exit"] == 0)
    print("verdict:", "OK" if ok else "FAILED")
    return 0 if ok else 1


def _rss_after(samples: list[Sample], marks: tuple[int, ...]) -> dict[str, int]:
    out = {}
    for mark in marks:
        at = next((s for s in samples if s.sessions >= mark), None)
        if at is not None:
            out[str(mark)] = at.rss_kib
    return out
