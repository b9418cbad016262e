"""Reusable Kivy widgets of the kiosk (views only: no I/O, no journey rules)."""
