"""The services' ports hold: the real adapters and the test fakes both fit them.

The unit tests of the services' rules run on hand-written fakes; they prove something about
the terminal only while the fakes and the real adapters offer the same calls. mypy checks it
(the files are listed in pyproject.toml's ``[tool.mypy]``, as ``make typecheck`` runs them): a
flow that calls the backend for something the ``Backend`` port does not name, an adapter or a
fake that drifts from its port, fails here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_services_the_real_adapters_and_the_fakes_fit_the_ports():
    done = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
