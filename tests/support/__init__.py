"""Helpers shared by the test packages (fixtures live in conftest.py).

- ``write_config`` / ``TEST_SECRET``: a simulated terminal's config in a folder (the same one
  the benchmarks use, from ``kiosk.sim.terminal``);
- ``run_tour`` / ``step``: a named tour through the real offscreen window (``HALF_SIZE``), and
  its steps;
- ``Events`` / ``wait_for``: a device-event sink to wait on, and waiting for a condition;
- ``tests.support.fakes``: in-memory fakes of the services' ports and ``fake_terminal()``, a
  journey wired to them by ``bootstrap()``, for the unit tests of the services' rules;
- ``pcscd_fixture``: a private pcscd for the PC/SC tests (in ``tests.support.pcscd``, which
  needs nothing until a test asks for it).
"""

from kiosk.sim.terminal import SECRET as TEST_SECRET
from kiosk.sim.terminal import TERMINALS, write_config
from tests.support.events import Events, wait_for
from tests.support.tours import HALF_SIZE, TOUR_WINDOW, run_tour, step

__all__ = ["HALF_SIZE", "TERMINALS", "TEST_SECRET", "TOUR_WINDOW", "Events", "run_tour", "step", "wait_for", "write_config"]
