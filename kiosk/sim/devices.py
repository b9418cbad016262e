"""Simulated devices: the real drivers, each talking to an emulator on a real transport.

The composition root (``kiosk.bootstrap``) takes a builder from here for every device whose
config section says ``driver = "simulated"``; the hub calls it like a family's own ``build``
and gets ``(driver, emulator)``. The driver is the one a terminal runs; only the far side of
its pty, socket or card slot is simulated.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any


def idcard(cfg: Any, *, link_dir: str | None = None) -> tuple[Any, Any]:
    """The serial ID-card reader driver against the SAM-module emulator on a pty (its link in
    ``link_dir``, or a folder of its own)."""
    from kiosk.hardware.idcard import SerialIdCardReader
    from kiosk.sim.idcard_emulator import IdCardEmulator

    emulator = IdCardEmulator(link_dir, pace_baud=cfg.pace_baud).start()
    return SerialIdCardReader(emulator.port), emulator


def sscard(cfg: Any, card_factory: Callable | None = None) -> tuple[Any, Any]:
    """The social-security-card reader logic against an in-process card slot (no pcscd)."""
    from kiosk.hardware.sscard import SocialSecurityCardReader
    from kiosk.sim.sscard_slot import DirectTransport

    slot = DirectTransport(card_factory) if card_factory else DirectTransport()
    return SocialSecurityCardReader(slot), slot


def ratingpad(cfg: Any) -> tuple[Any, Any]:
    """The serial evaluation-pad driver against the pad emulator on a pty."""
    from kiosk.hardware.ratingpad import SerialRatingPad
    from kiosk.sim.ratingpad_emulator import RatingPadEmulator

    emulator = RatingPadEmulator(pace_baud=cfg.pace_baud)
    emulator.start()
    return SerialRatingPad(emulator.port, baud=cfg.pace_baud or 9600), emulator


def scanner(cfg: Any) -> tuple[Any, Any]:
    """The serial scanner driver against the scanner emulator on a pty."""
    from kiosk.hardware.scanner import SerialScanner
    from kiosk.sim.scanner_emulator import ScannerEmulator

    emulator = ScannerEmulator(pace_baud=cfg.pace_baud).start()
    return SerialScanner(emulator.port, baud=cfg.pace_baud or 9600), emulator


def printer(cfg: Any, *, out_dir: Path | None = None, width_chars: int = 32, **kw: Any) -> tuple[Any, Any]:
    """The network ESC/POS driver against the printer emulator on loopback TCP; receipts are
    also rendered as PNGs into ``out_dir``."""
    from kiosk.hardware.printer import network_printer
    from kiosk.sim.escpos import PrinterEmulator

    dots = 576 if width_chars >= 48 else 384
    emulator = PrinterEmulator(columns=width_chars, dots_per_line=dots, out_dir=out_dir).start()
    return network_printer(emulator.url, width_chars=width_chars, **kw), emulator


def camera(cfg: Any) -> tuple[Any, Any]:
    """The OpenCV document-camera driver reading the emulated camera's MJPEG stream on loopback."""
    from kiosk.hardware.camera import DocumentCamera
    from kiosk.sim.camera_emulator import CameraEmulator

    emulator = CameraEmulator().start()
    return DocumentCamera(emulator.url, width=emulator.width, height=emulator.height, fps=emulator.fps), emulator


#: device name -> builder, for sections with ``driver = "simulated"``
BUILDERS: dict[str, Callable[..., tuple[Any, Any]]] = {
    "idcard": idcard,
    "sscard": sscard,
    "printer": printer,
    "ratingpad": ratingpad,
    "scanner": scanner,
    "camera": camera,
}
