"""A screen that is not shown sleeps (``kiosk.kivy_setup.sleep_hidden_screens``): a 大字版 or
language switch re-runs the kv rules and redraws the labels of the shown screen only; a hidden
screen catches up when the navigator wakes it, before its first frame."""

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
from kiosk.kivy_setup import (fresh_label_textures, guard_kv_handlers, put_to_sleep, run_awake,
                              sleep_hidden_screens, wake)
guard_kv_handlers()
fresh_label_textures()
sleep_hidden_screens()
from kivy.base import EventLoop
from kivy.core.window import Window
from kivy.event import EventDispatcher
from kivy.lang import Builder
from kivy.properties import NumericProperty
from kivy.uix.label import Label
from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager


class Theme(EventDispatcher):  # what app.theme is to the screens: one source, every screen reads it
    scale = NumericProperty(1)


theme = Theme()


class Big(Label):
    theme = theme


Builder.load_string('''
<Big>:
    font_size: 20 * self.theme.scale
''')


def frame():
    EventLoop.idle()


sm = ScreenManager(transition=NoTransition())
labels, calls = {}, []
for name in ("home", "guide"):
    screen = Screen(name=name)
    labels[name] = Big(text="请选择要办理的事项")
    screen.add_widget(labels[name])
    sm.add_widget(screen)
note = Label(text="请取卡", font_size=20)  # its words set from Python, as a screen's refresh does
sm.get_screen("guide").add_widget(note)
Window.add_widget(sm)
EventLoop.ensure_window()
sm.current = "guide"; frame()
sm.current = "home"; frame()  # both drawn once
put_to_sleep(sm.get_screen("guide"))
before = {n: [l.font_size, *l.texture_size] for n, l in labels.items()}
theme.scale = 2  # a 大字版 switch
for _ in range(3):
    run_awake(labels["guide"], "rebuild", lambda: calls.append("guide"))  # asked thrice, run once
run_awake(labels["home"], "rebuild", lambda: calls.append("home"))
note_before = list(note.texture_size)
note.text = "请取走您的社保卡"
frame(); frame()
note_asleep = list(note.texture_size)
switched = {n: [l.font_size, *l.texture_size] for n, l in labels.items()}
calls_asleep = list(calls)
woken = wake(sm.get_screen("guide"))
at_wake = [labels["guide"].font_size, *labels["guide"].texture_size]  # before its first frame
note_at_wake = list(note.texture_size)
sm.current = "guide"
put_to_sleep(sm.get_screen("home"))
frame()
shown = [labels["guide"].font_size, *labels["guide"].texture_size]
print(json.dumps({"before": before, "switched": switched, "woken": woken, "at_wake": at_wake, "shown": shown,
                  "note": [note_before, note_asleep, note_at_wake],
                  "calls_asleep": calls_asleep, "calls": calls, "again": wake(sm.get_screen("guide"))}))
"""


def test_a_sleeping_screen_catches_up_when_it_wakes(tmp_path):
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "kivy")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    before, switched = result["before"], result["switched"]
    assert switched["home"][0] == 40 and switched["home"][2] > before["home"][2]  # the shown screen: at once
    assert switched["guide"] == before["guide"]  # the sleeping one: its rule and its text wait
    assert result["calls_asleep"] == ["home"]
    note_before, note_asleep, note_at_wake = result["note"]
    assert note_asleep == note_before  # words set on a sleeping screen: drawn when it wakes...
    assert note_at_wake[0] > note_before[0]  # ...before its first frame
    assert result["woken"] == 3  # its kept rule, its run_awake call once, its stale label
    assert result["at_wake"][0] == 40  # its rule has run before it is shown
    assert result["shown"] == switched["home"]  # and its first frame has the new text
    assert result["calls"] == ["home", "guide"]
    assert result["again"] == 0  # awake already: nothing kept
