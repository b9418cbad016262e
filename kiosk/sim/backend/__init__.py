"""The reference backend: the terminal gateway with a simulated government platform behind it."""

from kiosk.sim.backend.server import ReferenceBackend

__all__ = ["ReferenceBackend"]
