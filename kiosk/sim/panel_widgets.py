"""Rows and boxes of the reviewers' simulator panel (kiosk.sim.panel)."""

from __future__ import annotations

from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout


class PanelBox(GridLayout):
    """A tab's content: rows of a person and their buttons, or a grid of buttons."""


class PanelRow(BoxLayout):
    """One demo resident (or special card): the name, what they are good for, their buttons."""

    title = StringProperty("")
    note_zh = StringProperty("")
    note_en = StringProperty("")
