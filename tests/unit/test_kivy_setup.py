"""Kivy is configured before it is imported, or not at all: an early import would print every line twice."""

from __future__ import annotations

import sys

import pytest

from kiosk.kivy_setup import configure_kivy


def test_configuring_kivy_after_it_was_imported_is_refused(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "kivy", sys.modules.get("kivy") or type(sys)("kivy"))
    with pytest.raises(RuntimeError, match="imported before configure_kivy"):
        configure_kivy(width=540, height=960, fullscreen=False, headless=True, home=tmp_path / "kivy")
    assert not (tmp_path / "kivy").exists()  # refused before touching anything


GUARD_SCRIPT = r"""
import os, sys
os.environ["KIVY_NO_ARGS"] = "1"
from kivy.event import EventDispatcher
from kivy.lang import Builder, builder
from kivy.properties import NumericProperty
from kivy.weakproxy import WeakProxy


class Source(EventDispatcher):
    value = NumericProperty(0)


class Target(EventDispatcher):
    value = NumericProperty(0)


if sys.argv[1] == "guarded":
    from kiosk.kivy_setup import guard_kv_handlers
    guard_kv_handlers()
    guard_kv_handlers()  # twice is once
source, target = Source(), Target()
proxy = WeakProxy(target)
del target  # the rule's widget dies; its binding on the source stays, as when one dies mid-dispatch


class Rule:  # what call_fn reads of a parsed rule
    count = 0
    line = 7
    value = "1"
    class ctx:
        filename = "made-up.kv"

source.fbind("value", builder.call_fn, (proxy, "value", compile("1", "<kv>", "eval"), Rule, {}))
source.value = 5  # dispatches to the dead widget's binding
print("survived")
"""


@pytest.mark.parametrize("mode", ["guarded", "plain"])
def test_a_kv_binding_whose_widget_died_does_not_end_the_app(mode, tmp_path):
    import os
    import subprocess

    env = dict(os.environ, KIVY_HOME=str(tmp_path / "kivy"), SDL_VIDEODRIVER="offscreen")
    run = subprocess.run([sys.executable, "-c", GUARD_SCRIPT, mode], capture_output=True, text=True,
                         env=env, timeout=120)
    if mode == "guarded":
        assert run.returncode == 0, run.stderr[-2000:]
        assert "survived" in run.stdout
    else:  # Kivy's own: the dispatch is aborted by the dead proxy (why the guard exists)
        assert run.returncode != 0 and "ReferenceError" in run.stderr


SCALE_SCRIPT = r"""
import sys
from pathlib import Path
from kiosk.kivy_setup import configure_kivy
configure_kivy(width=540, height=960, fullscreen=False, headless=True, home=Path(sys.argv[2]),
               scale=float(sys.argv[1]))
from kivy.metrics import dp, sp
print(dp(60), sp(20))
"""


@pytest.mark.parametrize(("scale", "sizes"), [(1.0, "60.0 20.0"), (0.5, "30.0 10.0")])
def test_the_ui_scale_is_pixels_per_dp_and_sp(scale, sizes, tmp_path):
    """``[ui] scale``: every size in the screens is in dp or sp, so the layout scales with it."""
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "KIVY_METRICS_DENSITY"}
    done = subprocess.run([sys.executable, "-c", SCALE_SCRIPT, str(scale), str(tmp_path / "kivy")],
                          capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-2:] == sizes.split()
