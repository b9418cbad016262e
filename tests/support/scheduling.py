"""How the suite is spread over pytest-xdist workers (``--dist loadgroup``, see scripts/test.sh).

- Tests that share an expensive module-scoped fixture (a tour through the window, a soak, a
  reference backend) stay on one worker, so the fixture is built once: each connected set of
  such tests is one ``xdist_group``. Each parameter of a parametrized fixture is a set of its
  own (the screenshot tour's two modes run on two workers at once).
- The PC/SC tests (marker ``pcsc``) are one group: pcscd serves a whole machine, so only one
  worker may run one (``kiosk.sim.pcscd`` also holds a machine-wide lock).
- Windowed tests (marker ``ui``, or anything in tests/ui/) rasterise with llvmpipe; the tours in
  them have their own clocks (a result screen moves on to the rating after 8 s), so they must
  not starve each other. ``WindowScheduling`` lets at most ``TEST_WINDOWS`` workers (default:
  two per core) hold windowed work at a time; the other workers take the tests that mostly
  wait (devices on ptys, loopback HTTP, SQLite), which is most of the rest. Two per core since
  the tours draw a half-size window (``tests/support/tours.py``): a tour mostly waits on its
  own clocks, and one per core left the cores idle a third of the time (measured on the
  2-core machine: 617 s with one window per core, 505 s with two).
- The longest units go first (the screenshot tour alone takes minutes), so that no worker
  starts one near the end while the others sit idle; unit tests fill the gaps.
"""

from __future__ import annotations

import os
from pathlib import PurePosixPath
from typing import Any

import pytest

PCSC_GROUP = "pcscd"
#: groups of windowed tests are named with this prefix; the scheduler only sees names
WINDOW = "window:"
#: where the long units are, longest first; everything else (the unit tests) comes after
LONGEST_FIRST = ("tests/ui/test_screenshots.py", "tests/e2e/",
                 "tests/integration/test_backend_contract.py",  # one test of 35 operations: ~40-50 s
                 # the tours that wait out real timeouts (45-90 s each): taken late, one of them
                 # alone kept the suite running a minute and a half after the rest had finished
                 "tests/ui/test_visits.py", "tests/ui/test_application_tours.py", "tests/ui/test_admin_ui.py",
                 "tests/ui/test_demo_tour.py", "tests/ui/test_stop.py",
                 "tests/ui/", "tests/integration/")


def _short(module: str) -> str:
    path = PurePosixPath(module)
    return str(path.parent.relative_to("tests") / path.stem) if path.parts[:1] == ("tests",) else str(path)


def _shared_fixtures(item: pytest.Item) -> list[str]:
    """Keys of the fixtures this test shares with others: one instance per module (per
    package for package scope). Session-scoped ones are built once per worker anyway."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return []
    module = item.nodeid.split("::", 1)[0]
    params = getattr(getattr(item, "callspec", None), "params", {})
    keys = []
    for name, defs in info.name2fixturedefs.items():
        scope = defs[-1].scope if defs else "function"
        if scope in ("module", "class"):
            # each parameter of a parametrized fixture is an instance of its own
            # (no brackets in a group's name: xdist reads "...]" at the end as a parameter, not a group)
            keys.append(f"{_short(module)}:{name}" + (f"={params[name]}" if name in params else ""))
        elif scope == "package":
            keys.append(f"{defs[-1].baseid or '.'}:{name}")
    return keys


def _windowed(item: pytest.Item) -> bool:
    return item.get_closest_marker("ui") is not None or item.nodeid.startswith("tests/ui/")


def group_for_workers(items: list[pytest.Item]) -> None:
    """Mark each connected set of tests sharing a fixture (or pcscd) as one ``xdist_group``,
    and every windowed test (alone or in such a set) as a ``window:`` group."""
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    keys: dict[pytest.Item, list[str]] = {}
    for item in items:
        shared = _shared_fixtures(item)
        if item.get_closest_marker("pcsc"):
            shared.append(PCSC_GROUP)
        for key in shared[1:]:
            parent[root(key)] = root(shared[0])
        keys[item] = shared
    windowed = {root(k) for item, shared in keys.items() if _windowed(item) for k in shared[:1]}
    for item, shared in keys.items():
        if not shared:
            if _windowed(item):
                item.add_marker(pytest.mark.xdist_group(f"{WINDOW}{PurePosixPath(item.nodeid.split('::')[0]).stem}.{item.name}"))
            continue
        group = root(shared[0])
        name = PCSC_GROUP if group == root(PCSC_GROUP) else group
        item.add_marker(pytest.mark.xdist_group(f"{WINDOW}{name}" if group in windowed else name))


def longest_first(items: list[pytest.Item]) -> None:
    """Reorder in place: the units known to be long first, the rest in collection order."""

    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return next((i for i, prefix in enumerate(LONGEST_FIRST) if path.startswith(prefix)), len(LONGEST_FIRST))

    items.sort(key=rank)


def window_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup`` with at most ``TEST_WINDOWS`` workers on windowed work at once.

    Built on xdist's LoadGroupScheduling (pinned in pyproject.toml): it takes the next unit in
    the queue unless that would open one window too many, then the first unit that opens
    none; a worker left with only windowed units to take waits until a window closes."""
    from xdist.scheduler import LoadGroupScheduling

    class WindowScheduling(LoadGroupScheduling):
        def __init__(self, config: pytest.Config, log: Any = None) -> None:
            super().__init__(config, log)
            self.windows = int(os.environ.get("TEST_WINDOWS") or 2 * len(os.sched_getaffinity(0)))

        def _windows_open(self, besides: Any) -> int:
            return sum(
                1 for node, work in self.assigned_work.items()
                if node is not besides
                and any(scope.startswith(WINDOW) and not all(done.values()) for scope, done in work.items())
            )

        def _assign_work_unit(self, node: Any) -> None:
            if self.workqueue and next(iter(self.workqueue)).startswith(WINDOW) and self._windows_open(node) >= self.windows:
                scope = next((s for s in self.workqueue if not s.startswith(WINDOW)), None)
                if scope is None:
                    return  # only windowed units are left: wait for a window to close
                self.workqueue.move_to_end(scope, last=False)
            super()._assign_work_unit(node)

        def mark_test_complete(self, node: Any, item_index: int, duration: float = 0) -> None:
            super().mark_test_complete(node, item_index, duration)
            for other in self.nodes:  # a window may have closed: a waiting worker may take one
                if other is not node:
                    self._reschedule(other)

    return WindowScheduling(config, log)
