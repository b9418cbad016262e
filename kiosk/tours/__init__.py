"""Scripted ways through the kiosk: the tour engine and the named tours (through the real
window), the scripted kiosk (no window) and the soak driver.

Like ``kiosk.sim``, nothing here runs on a real terminal and no product package imports it.
"""
