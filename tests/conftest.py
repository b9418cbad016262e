"""Shared fixtures: a reference backend on loopback and a whole kiosk in a temp folder.

Everything here is real: the backend is the HTTP server, the devices are the real drivers
against their emulators (``driver = "simulated"``), the stores are SQLite files.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kiosk.config import KioskConfig, load_config
from tests.support import TERMINALS, write_config
from tests.support.scheduling import group_for_workers, longest_first, window_scheduler

# python-escpos makes a folder on import; keep them inside the project's .tmp
os.environ.setdefault("TMPDIR", str(Path(__file__).resolve().parent.parent / ".tmp"))


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    group_for_workers(items)
    if hasattr(config, "workerinput"):  # an xdist worker: hand out the long units first
        longest_first(items)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    if config.getvalue("dist") == "loadgroup":
        return window_scheduler(config, log)
    return None


@pytest.fixture(scope="module")
def backend(request, tmp_path_factory):
    """One reference backend on loopback shared by a module of client tests, knowing the
    module's terminal: its ``TERMINAL`` and ``SECRET``, and ``TODAY`` if it fixes the date."""
    from kiosk.sim.backend.server import ReferenceBackend

    module = request.module
    b = ReferenceBackend(tmp_path_factory.mktemp("ref"), {module.TERMINAL: module.SECRET},
                         today=getattr(module, "TODAY", None))
    b.start()
    yield b
    b.close()


@pytest.fixture
def reference_backend(tmp_path):
    from kiosk.sim.backend.server import ReferenceBackend

    backend = ReferenceBackend(tmp_path / "backend", TERMINALS)
    backend.start("127.0.0.1", 0)
    yield backend
    backend.stop()


@pytest.fixture
def kiosk_config(tmp_path, reference_backend) -> KioskConfig:
    return load_config(write_config(tmp_path / "terminal", reference_backend.url))


@pytest.fixture
def scripted(kiosk_config):
    """A whole kiosk without a window, started; stopped after the test."""
    from kiosk.bootstrap import bootstrap
    from kiosk.tours.scripted import ScriptedKiosk

    kiosk = ScriptedKiosk(bootstrap(kiosk_config)).start()
    yield kiosk
    kiosk.stop()
