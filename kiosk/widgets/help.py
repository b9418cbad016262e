"""帮助: on every screen, what to do here, and 帮办代办 (staff call the resident back)."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import ObjectProperty
from kivy.uix.modalview import ModalView

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class HelpPanel(ModalView):
    instruction = ObjectProperty(("", ""))  # (zh, en): the current screen's main instruction
