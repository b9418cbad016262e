"""The soak's kill -9 phase: the terminal as a subprocess (``kiosk soak --terminal-child``),
killed with SIGKILL at random moments and restarted, then left to finish and deliver."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from kiosk.config import KioskConfig, load_config
from kiosk.tours.soak_sessions import PRINTABLE, ScriptedSessions


def run_terminal_child(config_path: Path, sessions: int, seed: int) -> int:
    """The terminal side of the kill -9 phase: sessions until done or killed, then deliver."""
    from kiosk.bootstrap import bootstrap
    from kiosk.tours.scripted import ScriptedKiosk

    config = load_config(config_path)
    rng = random.Random(seed)
    # starting re-queues rows in flight at the kill; no reviewers' copies, as in run_scripted
    with ScriptedKiosk(bootstrap(config, certificate_copies=None)) as sk:
        runner = ScriptedSessions(sk, None, rng)
        for _ in range(sessions):
            runner.run(rng.choice(PRINTABLE), None)
        left = sk.kiosk.delivery.flush(60)
    print(json.dumps({"outcomes": runner.outcomes, "outbox_left": left}), flush=True)
    return 0 if left == 0 else 3


#: the devices the soak emulates (the CUPS A4 printer, if any, keeps its own section)
SIMULATED_SECTIONS = ("[devices.idcard]", "[devices.sscard]", "[devices.printer]", "[devices.ratingpad]")


def _child_config(folder: Path, config: KioskConfig) -> Path:
    """A config file for the child: the soak's settings, written out as TOML."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "terminal.secret").write_bytes(config.terminal_secret())
    (folder / "terminal.secret").chmod(0o600)
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


def run_kills(kills: int, seed: int, config: KioskConfig, folder: Path, rng: random.Random) -> dict[str, Any]:
    """Start the terminal as a subprocess, SIGKILL it at random moments, then let it finish."""
    path = _child_config(folder, config)
    cmd = [sys.executable, "-m", "kiosk.cli", "soak", "--terminal-child", str(path), "--sessions", "40"]
    env = dict(os.environ)
    env.pop("NOTIFY_SOCKET", None)
    killed, log_path = 0, folder / "terminal.log"
    with open(log_path, "ab") as logfile:
        for i in range(kills):
            proc = subprocess.Popen([*cmd, "--seed", str(seed + i)], stdout=subprocess.DEVNULL,
                                    stderr=logfile, env=env)
            time.sleep(rng.uniform(1.5, 6.0))  # start-up, a few sessions, deliveries in flight
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                killed += 1
            proc.wait(timeout=30)
        final = subprocess.run([*cmd[:-1], "3", "--seed", str(seed + 999)], capture_output=True,
                               text=True, timeout=300, env=env)
        logfile.write(final.stderr.encode())
    return {"kills": killed, "final_exit": final.returncode, "final": final.stdout.strip()[-500:],
            "outbox": folder / "var" / "outbox.sqlite3"}
