"""An emulated QR scanner in serial mode on the master side of a pty: the real driver reads it.

What a scanner under the screen sends when it reads a code: the code's bytes, then the suffix
it is set to (CR, CRLF or LF), nothing else. ``scan()`` is the resident holding a phone to the
window; it can deliver the bytes in pieces, as a slow USB-serial bridge does. ``noise()`` is
what a scanner sends as it powers up, ``unplug()`` / ``replug()`` pull and put back the cable
(the pty closes and the link goes; a new pty appears behind the same link), and
``pace_baud`` makes the bytes take the time they take on a real line.

The codes themselves come from whoever drives it: the simulator panel and the tours ask the
simulated platform for a fresh 电子社保卡 token or use one of its demo payment codes
(``kiosk.sim.backend.tokens`` / ``paycode``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
import tty
from pathlib import Path

from kiosk.hardware.scanner_frame import SUFFIXES
from kiosk.identity import mask_code

#: what a scanner of this kind sends as it powers up: a floating line, half a banner
POWER_UP_NOISE = b"\x00\xff\xfe\x00" + b"SC-2D V3.1" + b"\x00"


class ScannerEmulator:
    """A serial-mode scanner: ``start()``, then point a ``SerialScanner`` at ``port``."""

    def __init__(
        self,
        link: str | os.PathLike[str] | None = None,
        *,
        suffix: str = "CR",
        pace_baud: int | None = None,
    ) -> None:
        self._own_dir: Path | None = None
        if link is None:
            self._own_dir = Path(tempfile.mkdtemp(prefix="scanner-"))
            link = self._own_dir / "scanner"
        self._link = Path(link)
        self.suffix = SUFFIXES[suffix]
        self.pace_baud = pace_baud
        self._lock = threading.RLock()
        self._master: int | None = None
        self._slave: int | None = None  # held open: what is written waits for the driver
        #: the last codes sent, masked (for the panel's status line and tests), newest last
        self.sent: list[str] = []

    @property
    def port(self) -> str:
        return str(self._link)

    @property
    def plugged(self) -> bool:
        with self._lock:
            return self._master is not None

    def start(self) -> ScannerEmulator:
        self.replug()
        return self

    def stop(self) -> None:
        self.unplug()
        if self._own_dir is not None:
            shutil.rmtree(self._own_dir, ignore_errors=True)

    def __enter__(self) -> ScannerEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- the cable --------------------------------------------------------------------------

    def unplug(self) -> None:
        """Pull the cable: the link goes and the driver's port hangs up."""
        with self._lock:
            self._link.unlink(missing_ok=True)
            for fd in (self._master, self._slave):
                if fd is not None:
                    os.close(fd)
            self._master = self._slave = None

    def replug(self, *, with_noise: bool = False) -> None:
        """Plug it back in: a fresh pty behind the same link (and, like a real scanner
        powering up, some noise on the line if ``with_noise``)."""
        with self._lock:
            if self._master is None:
                master, slave = os.openpty()
                tty.setraw(slave)  # CR stays CR: no line discipline between scanner and driver
                tmp = self._link.with_name(self._link.name + ".new")
                tmp.unlink(missing_ok=True)
                tmp.symlink_to(os.ttyname(slave))
                os.replace(tmp, self._link)
                self._master, self._slave = master, slave
        if with_noise:
            self.noise()

    # --- what the scanner sends ------------------------------------------------------------

    def scan(self, code: str | bytes, *, encoding: str = "utf-8", pieces: int = 1, gap_s: float = 0.0) -> None:
        """A code read: its bytes (``code`` encoded as ``encoding``, or raw bytes as given),
        then the suffix, in ``pieces`` writes ``gap_s`` apart. Blocking for the pacing."""
        data = (code.encode(encoding) if isinstance(code, str) else bytes(code)) + self.suffix
        self.sent.append(mask_code(code) if isinstance(code, str) else f"{len(code)} raw bytes")
        del self.sent[:-20]
        size = max(1, -(-len(data) // max(1, pieces)))
        for start in range(0, len(data), size):
            self._write(data[start : start + size])
            if gap_s and start + size < len(data):
                time.sleep(gap_s)

    def noise(self, data: bytes = POWER_UP_NOISE) -> None:
        """Bytes without a suffix, as a scanner sends while it powers up."""
        self._write(data)

    def inject(self, data: bytes) -> None:
        """Raw bytes on the line, exactly as given (no suffix added)."""
        self._write(data)

    def _write(self, data: bytes) -> None:
        with self._lock:
            master = self._master
            if master is None:
                return  # unplugged: the scan goes nowhere, as with a cable pulled
            sent = 0
            while sent < len(data):
                try:
                    sent += os.write(master, data[sent:])
                except OSError:
                    return  # a full buffer nobody reads: a real UART drops bytes too
        if self.pace_baud:
            time.sleep(len(data) * 10 / self.pace_baud)
