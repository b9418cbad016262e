"""``kiosk run``: start the kiosk with the devices and backend named in the config."""

from __future__ import annotations

import argparse
import logging

from kiosk.config import load_config

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run the kiosk (full screen)")
    p.add_argument("--config", help="config file (default config/kiosk.toml or $KIOSK_CONFIG)")
    p.add_argument("--windowed", action="store_true", help="a window instead of full screen (bench, debugging)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)  # a bad config stops here with the file and key named
    from kiosk.config_checks import check_on_host

    check_on_host(config)  # the secret, the data dir, the log file: as check-config says
    from kiosk.logsetup import configure_logging

    configure_logging(config.logging, source=config.source)  # journal-friendly, personal numbers masked
    return start_app(config, fullscreen=config.ui.fullscreen and not args.windowed, headless=False)


def stop_on_signals(app) -> None:
    """SIGTERM (systemctl stop, the nightly restart) and SIGINT (Ctrl-C) stop the kiosk
    cleanly: the app stops on its own thread at the next frame, its ``on_stop`` releases the
    devices and the outbox, and the process exits 0. Closing the window stays refused."""
    import signal

    from kivy.clock import Clock

    def handler(signum: int, _frame) -> None:
        log.warning("%s received: stopping the kiosk", signal.Signals(signum).name)
        app.stopping_for_signal = True
        Clock.schedule_once(lambda _dt: app.stop(), 0)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handler)


def start_app(config, *, fullscreen: bool, headless: bool, tour=None, out_dir=None, options=None,
              tour_options=None) -> int:
    """Configure Kivy, bootstrap the kiosk and run the app until it stops. ``options``
    (``kiosk.app_options.AppOptions``) carries what the demo, tours and benchmarks ask of the
    app; ``tour_options`` go to the tour. Returns 0, or 1 when a tour failed."""
    from kiosk.kivy_setup import configure_kivy

    configure_kivy(width=config.ui.width, height=config.ui.height, fullscreen=fullscreen,
                   headless=headless, home=config.data_dir / "kivy", scale=config.ui.scale)
    from kiosk.admin.logs import install_log_ring
    from kiosk.app import KioskApp  # noqa: PLC0415 - kivy only after configure_kivy
    from kiosk.bootstrap import bootstrap

    install_log_ring()  # the admin screen's recent logs, from the first line on
    kiosk = bootstrap(config)
    app = KioskApp(kiosk, options)
    stop_on_signals(app)
    result = {"code": 0}
    if tour is not None:
        from kiosk.tours.engine import Tour

        def begin(*_):
            t = Tour(app, out_dir, tour, options=dict(tour_options or {}))
            result["tour"] = t
            t.start()

        app.bind(on_start=begin)
    app.run()
    t = result.get("tour")
    if t is not None and t.failure:
        print(f"kiosk: tour failed: {t.failure}")
        return 1
    return getattr(app, "exit_code", 0)  # 75 after a technician's restart (systemd restarts it)
