"""``kiosk demo``: the reference backend and the kiosk with simulated devices, for reviewers.

With a display (or Xvfb) it opens the kiosk window with the simulator panel: place a demo
resident's card, take it away, press a rating key, empty the printer. ``--headless --out DIR``
runs the scripted tour offscreen instead and leaves a screenshot of every screen it passed,
the receipt image and ``tour.json`` (what was on each screen) in DIR.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
from pathlib import Path
from urllib.parse import urlparse

from kiosk.config import KioskConfig, load_config


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the kiosk in simulated mode with the reference backend")
    p.add_argument("--config", help="config file (default config/kiosk.toml)")
    p.add_argument("--headless", action="store_true", help="run the scripted tour offscreen")
    p.add_argument("--out", type=Path, default=Path("out/demo"), help="where the headless tour writes (default out/demo)")
    p.add_argument("--tour", default="demo", help="which tour to run headless (default demo)")
    p.add_argument("--windowed", action="store_true", help="a window instead of full screen")
    p.add_argument("--admin-pin", default=None,
                   help=f"the PIN the admin tours type (default the demo PIN {DEMO_ADMIN_PIN})")
    p.set_defaults(func=run)


#: in the demo an application moves one step (受理 -> 审核 -> 办结 -> 已寄出) a minute
DEMO_STEP_S = 60.0
#: the technicians' PIN of the simulated terminal when its config sets none (never on a real one)
DEMO_ADMIN_PIN = "24681357"


def simulated(config: KioskConfig, backend_url: str) -> KioskConfig:
    """The same config with every device simulated, the backend at ``backend_url`` and, when
    the config sets no technicians' PIN, the demo PIN."""
    from kiosk.admin.pin import hash_pin

    devices = config.devices.model_validate(
        {name: {"driver": "simulated"} for name in ("idcard", "sscard", "printer", "ratingpad", "scanner", "camera")}
    )
    admin = config.admin
    if not admin.pin_hash:
        admin = admin.model_copy(update={"pin_hash": hash_pin(DEMO_ADMIN_PIN)})
    return config.model_copy(update={
        "devices": devices,
        "backend": config.backend.model_copy(update={"url": backend_url}),
        "ui": config.ui.model_copy(update={"simulator_panel": True, "voice_output": "file"}),
        "admin": admin,
    })


def simulated_options(platform, **more):
    """App options for a simulated kiosk: the 模拟器 button opens the reviewers' panel, which
    acts on the emulators and on ``platform`` (the simulated government platform). The panel
    is built the first time and kept, so it opens at once after that."""
    from kiosk.app_options import AppOptions

    kept: dict = {}

    def open_panel() -> None:
        from kiosk.sim.panel import SimulatorPanel

        if "panel" not in kept:
            kept["panel"] = SimulatorPanel(platform=platform)
        kept["panel"].open()

    return AppOptions(simulator=open_panel, **more)


def named_tour(name: str):
    """The tour called ``name``, looked up once the tour starts: the tours import kivy, which
    must not happen before ``start_app`` has configured it (its logging above all)."""

    def script(tour):
        from kiosk.tours.engine import TourFailed
        from kiosk.tours.named import TOURS

        if name not in TOURS:
            raise TourFailed(f"no tour named {name!r}; the tours are {', '.join(sorted(TOURS))}")
        yield from TOURS[name](tour)

    return script


def _free(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def start_reference_backend(config: KioskConfig, secret: bytes):
    """The simulated government platform on loopback, with this terminal's secret."""
    from kiosk.sim.backend.server import ReferenceBackend

    parsed = urlparse(config.backend.url)
    host = parsed.hostname if parsed.hostname in ("127.0.0.1", "localhost", "::1") else "127.0.0.1"
    port = parsed.port if parsed.port is not None else 8765
    backend = ReferenceBackend(config.data_dir / "backend", {config.terminal.id: secret})
    backend.application_step_s = DEMO_STEP_S  # applications move along in minutes, not working days
    url = backend.start(host, port if _free(host, port) else 0)
    return backend, url


def fresh_demo_data(config: KioskConfig) -> KioskConfig:
    """Every demo run starts from the same demo data: the simulated platform's records and the
    terminal's store live in ``<data_dir>/demo``, emptied at each start (a water bill paid in
    the last run is due again). The terminal secret stays where the config keeps it."""
    folder = config.data_dir / "demo"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return config.model_copy(update={"storage": config.storage.model_copy(update={"data_dir": folder})})


def run(args: argparse.Namespace) -> int:
    from kiosk.bootstrap import ensure_secret
    from kiosk.commands.run import start_app
    from kiosk.logsetup import configure_logging

    config = load_config(args.config)
    configure_logging(config.logging, source=config.source)
    if not args.headless and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        print("no display: running the headless tour instead (see --out)", flush=True)
        args.headless = True
    secret = ensure_secret(config)
    config = fresh_demo_data(config)
    backend, url = start_reference_backend(config, secret)
    print(f"reference backend at {url} (fresh demo data in {config.data_dir})", flush=True)
    had_pin = bool(config.admin.pin_hash)
    config = simulated(config, url)
    if not had_pin:
        print(f"technicians' screen: hold the top-left corner for 3 s; demo PIN {DEMO_ADMIN_PIN} "
              "(simulated mode only)", flush=True)
    tour = None
    if args.headless:
        tour = named_tour(args.tour)
        if (args.out / "tour.json").exists():  # an earlier tour's pictures must not mix with these
            shutil.rmtree(args.out)
        args.out.mkdir(parents=True, exist_ok=True)
        print(f"tour {args.tour}: a line for each screenshot in {args.out}/", flush=True)
    tour_options = {"admin_pin": args.admin_pin or DEMO_ADMIN_PIN}
    try:
        code = start_app(config, fullscreen=config.ui.fullscreen and not args.windowed and not args.headless,
                         headless=args.headless, tour=tour, out_dir=args.out.resolve() if args.headless else None,
                         options=simulated_options(backend), tour_options=tour_options)
    finally:
        backend.stop()
    if args.headless and code == 0:
        print(f"tour written to {args.out}/ (screenshots, receipt.png, tour.json)")
    return code
