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
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from kiosk.config import KioskConfig, load_config
from kiosk.tours.soak import (
    Sample,
    growth_per_1000,
    judge_delivery,
    report_table,
    sample,
    terminal_records,
    warmup_for,
)

log = logging.getLogger(__name__)

#: residents whose certificate can be printed (insured, valid card); the scripted run adds others
PRINTABLE = ("wang_jianguo", "zhang_xiuying", "liu_yan", "li_guilan", "sun_zhiqiang", "wu_haitao",
             "zheng_shuzhen", "ma_yumei", "zhu_dehua", "gao_junjie", "luo_cheng", "ayigul")
#: also served by the scripted run: no insurance (empty record), an expired card (refused)
OTHERS = ("chen_ming", "zhou_fang", "he_jing", "expired")
#: a pause after a screen appears and before it is tapped: its first layout pass must have run,
#: or the touch lands where the widget was drawn for one frame (as a real finger never would)
SETTLE_S = 0.15
FAULTS = ("paper_out", "card_pulled", "reader_unplugged", "backend_down", "answer_lost")


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


def _forget_printed(kiosk: Any) -> None:
    # The emulator keeps every page it printed, for tests that read them back; over thousands of
    # sessions that list would be the growth measured.
    emulator = kiosk.hub.emulator("printer")
    if emulator is not None:
        emulator.clear()


# --- one scripted session ----------------------------------------------------------------------


class ScriptedSessions:
    """Runs resident sessions on a ``ScriptedKiosk``, injecting the in-process faults."""

    def __init__(self, scripted: Any, backend: Any, rng: random.Random) -> None:
        self.sk = scripted
        self.backend = backend
        self.rng = rng
        self.outcomes: dict[str, int] = {}
        self.faults: dict[str, int] = {}

    def run(self, resident: str, fault: str | None) -> str:
        outcome = self._session(resident, fault)
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        if fault is not None:
            self.faults[fault] = self.faults.get(fault, 0) + 1
        _forget_printed(self.sk.kiosk)
        return outcome

    def _session(self, resident: str, fault: str | None) -> str:
        from kiosk.hardware.base import PaperStatus
        from kiosk.services.journey import Outcome
        from kiosk.services.rating import Level, Rating

        sk, journey, hub = self.sk, self.sk.journey, self.sk.kiosk.hub
        if fault == "reader_unplugged":
            self._unplug_reader()
        for device in ("idcard", "printer"):
            sk.wait_device(device, 30)
        sk.pump(lambda: journey.backend_online, 30, "the backend to be online")
        journey.choose(sk.item_for_flow("contribution_certificate").id)
        journey.proceed()
        sk.identify_with_idcard(resident)
        if sk.refused:
            sk.refused.clear()
            sk.take_card()
            journey.end("cancelled")
            return "refused"
        if fault == "card_pulled":
            hub.emulator("idcard").remove()
            sk.pump(lambda: journey.state == "farewell", 10, "the session to end on card removal")
            sk.leave()
            return "card_pulled"
        record = journey.flow.load()
        if record.empty:
            outcome = Outcome(True, "查询完成", "Query finished")
        elif fault == "paper_out":
            printer = hub.emulator("printer")
            printer.set_paper(PaperStatus.OUT)
            first = journey.flow.print_certificate()
            printer.set_paper(PaperStatus.FULL)
            if first.ok:
                raise AssertionError("a certificate printed with no paper")
            outcome = journey.flow.print_certificate()  # the resident's 重新打印
        else:
            outcome = journey.flow.print_certificate()
        journey.finish(outcome)
        journey.to_rating()
        if fault == "backend_down":
            self.backend.stop()
        elif fault == "answer_lost":
            # the rating is stored, then the connection dies: the resend must not count twice
            self.backend.faults.set("drop", count=1, when="after", path_prefix="/v1/ratings")
        level = self.rng.randint(1, 5)
        journey.rate(Rating(Level(level), reasons=("slow",) if level <= 2 else (), source="screen"))
        sk.leave()
        if fault == "backend_down":
            self._backend_back()
        return "printed" if outcome.ok and not record.empty else ("empty" if outcome.ok else "not_printed")

    def _unplug_reader(self) -> None:
        sk, hub = self.sk, self.sk.kiosk.hub
        emulator = hub.emulator("idcard")
        emulator.unplug()
        sk.pump(lambda: hub.unavailable_reason(["idcard"]) is not None, 30, "the unplugged reader to be missed")
        emulator.replug()

    def _backend_back(self) -> None:
        delivery = self.sk.kiosk.delivery
        deadline = time.monotonic() + 10
        while delivery.online and self.sk.kiosk.outbox.depth() and time.monotonic() < deadline:
            time.sleep(0.05)  # let the worker find the backend gone
        parsed = urlparse(self.backend.url)
        self.backend.start(parsed.hostname, parsed.port)
        # a technician's forced sync; the worker alone would wait out its back-off (up to 30 s)
        delivery.flush(15)
        self.sk.pump(lambda: self.sk.journey.backend_online, 30, "the backend to be online again")


def run_scripted(args: argparse.Namespace, config: KioskConfig, backend: Any, t0: float) -> dict[str, Any]:
    from kiosk.bootstrap import bootstrap
    from kiosk.tours.scripted import ScriptedKiosk

    rng = random.Random(args.seed)
    samples: list[Sample] = []
    residents = PRINTABLE + OTHERS
    deadline = t0 + args.max_minutes * 60
    done = 0
    with ScriptedKiosk(bootstrap(config)) as sk:
        sessions = ScriptedSessions(sk, backend, rng)
        samples.append(sample(0, time.monotonic() - t0))
        for done in range(1, args.sessions + 1):
            fault = rng.choice(FAULTS) if args.faults and rng.random() < args.fault_rate else None
            sessions.run(rng.choice(residents), fault)
            if done % args.sample_every == 0:
                samples.append(sample(done, time.monotonic() - t0))
            if time.monotonic() > deadline:
                log.warning("soak: time budget spent after %d sessions", done)
                break
        left = sk.kiosk.delivery.flush(60)
    return {"sessions_done": done, "samples": samples, "outcomes": sessions.outcomes,
            "faults": sessions.faults, "outbox_left": left}


# --- the kill -9 phase ---------------------------------------------------------------------


def run_terminal_child(args: argparse.Namespace) -> int:
    """The terminal side of the kill -9 phase: sessions until done or killed, then deliver."""
    from kiosk.bootstrap import bootstrap
    from kiosk.tours.scripted import ScriptedKiosk

    config = load_config(args.terminal_child)
    rng = random.Random(args.seed)
    with ScriptedKiosk(bootstrap(config)) as sk:  # starting re-queues rows in flight at the kill
        sessions = ScriptedSessions(sk, None, rng)
        for _ in range(args.sessions):
            sessions.run(rng.choice(PRINTABLE), None)
        left = sk.kiosk.delivery.flush(60)
    print(json.dumps({"outcomes": sessions.outcomes, "outbox_left": left}), flush=True)
    return 0 if left == 0 else 3


#: the devices the soak emulates (the CUPS A4 printer, if any, keeps its own section)
SIMULATED_SECTIONS = ("[devices.idcard]", "[devices.sscard]", "[devices.printer]", "[devices.ratingpad]")


def _child_config(folder: Path, config: KioskConfig) -> Path:
    """A config file for the child: the soak's settings, written out as TOML."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "terminal.secret").write_bytes(config.terminal_secret())
    source = config.source.read_text(encoding="utf-8")
    url = config.backend.url
    lines, section = [], ""
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped
        if section == "[backend]" and stripped.startswith("url ="):
            line = f'url = "{url}"'
        elif section == "[backend]" and stripped.startswith(("secret_file =", "secret_env =")):
            line = 'secret_file = "terminal.secret"'
        elif section == "[storage]" and stripped.startswith("data_dir ="):
            line = 'data_dir = "var"'
        elif section in SIMULATED_SECTIONS and stripped.startswith("driver ="):
            line = 'driver = "simulated"'
        elif section in SIMULATED_SECTIONS and stripped and not stripped.startswith(("[", "#")):
            continue  # real-device keys do not belong to a simulated section
        lines.append(line)
    path = folder / "kiosk.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_kills(args: argparse.Namespace, config: KioskConfig, folder: Path, rng: random.Random) -> dict[str, Any]:
    """Start the terminal as a subprocess, SIGKILL it at random moments, then let it finish."""
    path = _child_config(folder, config)
    cmd = [sys.executable, "-m", "kiosk.cli", "soak", "--terminal-child", str(path), "--sessions", "40"]
    env = dict(os.environ)
    env.pop("NOTIFY_SOCKET", None)
    kills, log_path = 0, folder / "terminal.log"
    with open(log_path, "ab") as logfile:
        for i in range(args.kills):
            proc = subprocess.Popen([*cmd, "--seed", str(args.seed + i)], stdout=subprocess.DEVNULL,
                                    stderr=logfile, env=env)
            time.sleep(rng.uniform(1.5, 6.0))  # start-up, a few sessions, deliveries in flight
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait(timeout=30)
        final = subprocess.run([*cmd[:-1], "3", "--seed", str(args.seed + 999)], capture_output=True,
                               text=True, timeout=300, env=env)
        logfile.write(final.stderr.encode())
    return {"kills": kills, "final_exit": final.returncode, "final": final.stdout.strip()[-500:],
            "outbox": folder / "var" / "outbox.sqlite3"}


# --- the command -------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    if args.terminal_child is not None:
        logging.basicConfig(level=logging.WARNING)
        return run_terminal_child(args)
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
    t0 = time.monotonic()
    try:
        if args.window:
            part = run_window(args, config, t0)
        else:
            part = run_scripted(args, config, backend, t0)
        kills = None
        if args.faults and not args.window:
            kills = run_kills(args, config, folder / "killed-terminal", random.Random(args.seed + 1))
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


def run_window(args: argparse.Namespace, config: KioskConfig, t0: float) -> dict[str, Any]:
    from kiosk.commands.run import start_app

    state: dict[str, Any] = {"samples": [], "done": 0, "outcomes": {}}
    script = window_script(args.sessions, args.sample_every, state, t0, t0 + args.max_minutes * 60)
    code = start_app(config, fullscreen=False, headless=True, tour=script, out_dir=Path(args.dir or config.data_dir) / "tour")
    if code != 0:
        state["outcomes"]["tour_failed"] = 1
    return {"sessions_done": state["done"], "samples": state["samples"], "outcomes": state["outcomes"],
            "faults": {}, "outbox_left": state.get("outbox_left")}


def window_script(sessions: int, every: int, state: dict[str, Any], t0: float, deadline: float):
    """A tour serving ``sessions`` residents through the window with real touches, no screenshots
    (a tour's screenshots and records would be the growth measured)."""

    def script(tour: Any):
        from kiosk.tours.engine import Wait, leave, open_item, rate

        kiosk = tour.app.kiosk
        item = next(i for i in kiosk.catalogue.items if i.flow == "contribution_certificate")
        idcard = kiosk.hub.emulator("idcard")
        yield tour.until_screen("home", 30)
        yield Wait(lambda: kiosk.hub.unavailable_reason(["idcard", "printer"]) is None, "the devices", 30)
        state["samples"].append(sample(0, time.monotonic() - t0))
        levels = ("非常满意", "满意", "基本满意")
        for i in range(1, sessions + 1):
            resident = PRINTABLE[i % len(PRINTABLE)]
            yield from open_item(tour, item_id=item.id)
            yield SETTLE_S
            tour.tap(tour.by_id("start_button"))
            yield tour.until_screen("identify")
            yield tour.run_off_thread(lambda r=resident: idcard.place(r), "placing the ID card")
            yield tour.until_screen("record")
            yield Wait(lambda: tour.screen().loaded, "the record to load", 15)
            yield SETTLE_S
            tour.tap(tour.by_id("print_button"))
            yield tour.until_screen("result", 20)
            yield SETTLE_S
            ok = bool(kiosk.journey.outcome and kiosk.journey.outcome.ok)
            state["outcomes"]["printed" if ok else "not_printed"] = state["outcomes"].get(
                "printed" if ok else "not_printed", 0) + 1
            tour.tap(tour.by_id("done_button"))
            yield tour.until_screen("rating")
            yield SETTLE_S
            yield from rate(tour, levels[i % len(levels)])
            yield from leave(tour)
            _forget_printed(kiosk)
            state["done"] = i
            if i % every == 0:
                state["samples"].append(sample(i, time.monotonic() - t0))
            if time.monotonic() > deadline:
                break
        box: dict[str, int] = {}
        yield tour.run_off_thread(lambda: box.setdefault("left", kiosk.delivery.flush(60)), "delivering", 90)
        state["outbox_left"] = box.get("left")

    return script
