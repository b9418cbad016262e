"""Labels on hidden screens draw their text again only when their screen is shown
(``kiosk.kivy_setup.defer_hidden_labels``): a 大字版 switch rasterises the shown screen only."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.ui

SCRIPT = r"""
import json, sys
from pathlib import Path
from kiosk.kivy_setup import configure_kivy
configure_kivy(width=540, height=960, fullscreen=False, headless=True, home=Path(sys.argv[1]))
from kiosk.kivy_setup import defer_hidden_labels, fresh_label_textures, show_deferred_labels
fresh_label_textures()
defer_hidden_labels()
from kivy.base import EventLoop
from kivy.core.window import Window
from kivy.uix.label import Label
from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager

def frame():
    EventLoop.idle()

sm = ScreenManager(transition=NoTransition())
labels = {}
for name in ("home", "guide"):
    screen = Screen(name=name)
    labels[name] = Label(text="请选择要办理的事项", font_size=20)
    screen.add_widget(labels[name])
    sm.add_widget(screen)
Window.add_widget(sm)
EventLoop.ensure_window()
sm.current = "guide"; frame()
sm.current = "home"; frame()  # both drawn once
before = {n: list(l.texture_size) for n, l in labels.items()}
for label in labels.values():
    label.font_size = 40  # a 大字版 switch
frame(); frame()
switched = {n: list(l.texture_size) for n, l in labels.items()}
sm.current = "guide"
drawn = show_deferred_labels()
frame()
print(json.dumps({"before": before, "switched": switched, "drawn": drawn,
                  "shown": list(labels["guide"].texture_size)}))
"""


def test_a_hidden_screen_s_label_is_drawn_when_its_screen_is_shown(tmp_path):
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "kivy")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    before, switched = result["before"], result["switched"]
    assert switched["home"][1] > before["home"][1]  # the shown screen's label: at once
    assert switched["guide"] == before["guide"]  # the hidden one: not yet
    assert result["drawn"] == 1
    assert result["shown"] == switched["home"]  # drawn before its screen's first frame
