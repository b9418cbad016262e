"""帮助: on every screen, what to do here, and 帮办代办 (staff call the resident back)."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import NumericProperty, ObjectProperty
from kivy.uix.modalview import ModalView

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class HelpPanel(ModalView):
    #: opens and closes at once: Kivy's 0.1 s fade is 5-7 frames of the whole window, each
    #: rasterised by the CPU on a terminal, for a change no resident sees
    _anim_duration = NumericProperty(0)
    instruction = ObjectProperty(("", ""))  # (zh, en): the current screen's main instruction
