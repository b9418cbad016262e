"""Cold start to the first frame of the home screen.

Each run starts a new process (`bench/startup_child.py`: what `kiosk run --windowed` does,
offscreen when there is no display)
against a reference backend on loopback with simulated devices; the app prints the wall-clock
time at which the first home-screen frame was finished (glFinish) and exits. The figure is
that time minus the time just before the process was spawned: interpreter, imports, config,
devices, window and first frame included. The first start in a new data folder (a terminal's
first start ever: its database, secret and the printer profiles' cache made) is reported apart;
the others start as a terminal does every morning, with its data folder in place.

    .venv/bin/python -m bench.bench_startup [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.sim.terminal import TERMINALS, write_config  # noqa: E402


def measure(runs: int) -> dict[str, list[float]]:
    from kiosk.sim.backend.server import ReferenceBackend

    folder = Path(tempfile.mkdtemp(prefix="bench-startup-", dir=os.environ.get("TMPDIR")))
    backend = ReferenceBackend(folder / "backend", TERMINALS)
    url = backend.start("127.0.0.1", 0)
    config = write_config(folder / "terminal", url)
    env = dict(os.environ)
    env.pop("DISPLAY", None)
    seconds, rss, first = [], [], []
    try:
        for n in range(runs + 1):
            started = time.time()
            proc = subprocess.run([sys.executable, "-m", "bench.startup_child", str(config)], cwd=ROOT,
                                  capture_output=True, text=True, timeout=120, env=env)
            line = next((x for x in proc.stdout.splitlines() if x.startswith("KIOSK_FIRST_FRAME")), None)
            if line is None:
                raise SystemExit(f"no first frame reported:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
            _, at, kib = line.split()
            if n == 0:
                first.append(float(at) - started)
                continue
            seconds.append(float(at) - started)
            rss.append(int(kib) / 1024)
    finally:
        backend.stop()
    return {"cold start to first home frame (s)": seconds, "RSS at first frame (MiB)": rss,
            "first start in a new data folder (s)": first}


def table(figures: dict[str, list[float]]) -> str:
    rows = ["| figure | min | median | max | runs |", "|---|---|---|---|---|"]
    for name, values in figures.items():
        rows.append(f"| {name} | {min(values):.3f} | {statistics.median(values):.3f} | {max(values):.3f} | {len(values)} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    print(table(measure(parser.parse_args().runs)))


if __name__ == "__main__":
    main()
