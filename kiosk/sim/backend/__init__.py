"""The reference backend: a simulated government platform with the demo residents' records."""

from kiosk.sim.backend.server import DEMO_TERMINALS, ReferenceBackend

__all__ = ["DEMO_TERMINALS", "ReferenceBackend"]
