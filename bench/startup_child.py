"""The process ``bench_startup`` spawns: ``kiosk run --windowed`` that reports its first home
frame (wall-clock time and RSS) on stdout and stops there.

    python -m bench.startup_child CONFIG
"""

from __future__ import annotations

import sys


def _rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main(config_path: str) -> int:
    from kiosk.app_options import AppOptions
    from kiosk.commands.run import start_app
    from kiosk.config import load_config
    from kiosk.logsetup import configure_logging

    config = load_config(config_path)
    configure_logging(config.logging, source=config.source)

    def first_frame(app, at: float) -> None:
        print(f"KIOSK_FIRST_FRAME {at:.6f} {_rss_kib()}", flush=True)
        app.stop()

    return start_app(config, fullscreen=False, headless=False, options=AppOptions(on_first_frame=first_frame))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
