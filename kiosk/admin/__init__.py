"""Technician maintenance on site: the PIN gate, the audit trail and the admin actions.

No kivy here: the admin screens are thin views over these objects, and the tests and the
``kiosk admin`` command drive them without a window.
"""
