"""The systemd watchdog through the real Kivy window (offscreen): READY after the first frame,
pings from the main loop at half of WATCHDOG_USEC, none while the UI thread is frozen even
though a worker thread keeps running, STOPPING at the end.

systemd's side is a real datagram socket named by ``NOTIFY_SOCKET``, as systemd gives one.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from kiosk.watchdog import ping_interval_s
from tests.support import write_config

pytestmark = pytest.mark.ui

FREEZE_S = 1.5
APP_SCRIPT = textwrap.dedent(
    """
    import sys, threading, time
    from kiosk.config import load_config
    from kiosk.kivy_setup import configure_kivy

    config = load_config(sys.argv[1])
    configure_kivy(width=540, height=960, fullscreen=False, headless=True, home=config.data_dir / "kivy")
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kiosk import watchdog
    from kiosk.app import KioskApp
    from kiosk.bootstrap import bootstrap

    app = KioskApp(bootstrap(config))
    app.bind(on_start=lambda *_: watchdog.install(app))
    stop = threading.Event()

    def busy_worker():  # a worker thread spinning must not keep the kiosk "alive"
        while not stop.is_set():
            sum(range(1000))

    threading.Thread(target=busy_worker, daemon=True).start()
    def first_frame(window, *_):  # timed from the first frame: start-up is slow on a loaded machine
        window.unbind(on_flip=first_frame)
        Clock.schedule_once(lambda _dt: time.sleep(float(sys.argv[2])), 1.5)  # the UI thread stuck
        Clock.schedule_once(lambda _dt: app.stop(), 4.5)

    app.bind(on_start=lambda *_: Window.bind(on_flip=first_frame))
    app.run()
    stop.set()
    """
)


def test_ping_interval_is_half_of_watchdog_usec_and_absent_without_it():
    assert ping_interval_s({"WATCHDOG_USEC": "30000000"}) == 15.0
    assert ping_interval_s({}) is None
    assert ping_interval_s({"WATCHDOG_USEC": "0"}) is None
    assert ping_interval_s({"WATCHDOG_USEC": "junk"}) is None


def test_install_does_nothing_without_notify_socket(monkeypatch):
    from kiosk.watchdog import install

    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)

    class App:  # never touched: install must return before looking at the app
        def __getattr__(self, name):
            raise AssertionError(f"install touched app.{name}")

    assert install(App()) is None


def test_pings_come_from_the_main_loop_and_stop_while_it_is_frozen(tmp_path):
    config = write_config(tmp_path / "terminal", "http://127.0.0.1:9")  # no backend: delivery offline
    sock_path = tmp_path / "notify"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(sock_path))
    server.settimeout(0.2)
    received: list[tuple[float, str]] = []
    done = threading.Event()

    def listen() -> None:
        while not done.is_set():
            try:
                data = server.recv(4096)
            except TimeoutError:
                continue
            received.append((time.monotonic(), data.decode()))

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    script = tmp_path / "app.py"
    script.write_text(APP_SCRIPT)
    env = dict(os.environ, NOTIFY_SOCKET=str(sock_path), WATCHDOG_USEC="200000",
               PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    env.pop("DISPLAY", None)
    try:
        proc = subprocess.run([sys.executable, str(script), str(config), str(FREEZE_S)],
                              capture_output=True, text=True, timeout=120, env=env)
    finally:
        time.sleep(0.3)
        done.set()
        listener.join(5)
        server.close()
    assert proc.returncode == 0, proc.stderr[-3000:]
    messages = [m for _t, m in received]
    assert messages, "systemd heard nothing"
    assert messages[0].startswith("READY=1\nSTATUS=outbox ")
    assert messages[-1] == "STOPPING=1"
    pings = [t for t, m in received if m.startswith("WATCHDOG=1")]
    assert len(pings) >= 10
    gaps = [b - a for a, b in zip(pings, pings[1:], strict=False)]
    # one gap as long as the freeze (the busy worker did not ping meanwhile); the rest near 0.1 s
    assert max(gaps) >= FREEZE_S * 0.9
    normal = sorted(gaps)[len(gaps) // 2]
    assert 0.05 <= normal <= 0.3
    assert all(m.count("READY=1") == 0 for m in messages[1:])
