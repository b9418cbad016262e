"""A software evaluation pad on the far side of a pty, for simulated kiosks and tests.

It behaves like the firmware described in ``docs/ratingpad-protocol.md``: it answers PING,
GET_STATUS and GET_VERSION, lights up on PROMPT, goes dark on CANCEL, a key press or its own
timer, and reports every key press (even when dark, as cheap pads do: the host decides).
The real ``SerialRatingPad`` driver opens ``port``, a symlink that stays put while the pty
behind it is unplugged and replugged, so the driver's reconnect path runs for real.
"""

from __future__ import annotations

import logging
import os
import select
import shutil
import tempfile
import threading
import time
import tty
from collections import deque
from pathlib import Path

from kiosk.errors import ProtocolError
from kiosk.hardware import ratingpad_frame as rf

log = logging.getLogger(__name__)


class RatingPadEmulator:
    """An evaluation pad: ``start()``, then point a driver at ``port``."""

    def __init__(
        self,
        link: str | os.PathLike[str] | None = None,
        *,
        pace_baud: int | None = None,
        firmware: str = "KIOSK-EMU 1.0",
    ) -> None:
        self._own_dir: Path | None = None
        if link is None:
            self._own_dir = Path(tempfile.mkdtemp(prefix="ratingpad-"))
            link = self._own_dir / "ratingpad"
        self._link = Path(link)
        self._pace_baud = pace_baud
        self._firmware = firmware
        self._lock = threading.RLock()  # guards the fds and the pad state
        self._master: int | None = None
        self._slave: int | None = None  # held open so the master never sees EIO between opens
        self._lit = False
        self._prompt_id = 0
        self._deadline: float | None = None
        self._silent = False
        self._faults = 0
        self._parser = rf.FrameParser(on_error=self._bad_frame)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: what the host sent, newest last (bounded), for tests and the simulator panel
        self.received: deque[rf.Message] = deque(maxlen=200)

    # --- the pad's outside ------------------------------------------------------------------

    @property
    def port(self) -> str:
        return str(self._link)

    @property
    def lit(self) -> bool:
        with self._lock:
            return self._lit

    @property
    def plugged(self) -> bool:
        with self._lock:
            return self._master is not None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self.replug()
        self._thread = threading.Thread(target=self._run, name="ratingpad-emulator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.unplug()
        if self._own_dir is not None:
            shutil.rmtree(self._own_dir, ignore_errors=True)

    def press(self, level: int) -> None:
        """A resident presses key ``level`` (5 非常满意 ... 1 非常不满意)."""
        if not 1 <= level <= 5:
            raise ValueError(f"the pad has keys 1..5, not {level}")
        with self._lock:
            if self._master is None or self._silent:
                return  # unpowered or hung: the press goes nowhere
            prompt_id = self._prompt_id
            self._lit = False
            self._deadline = None
            self._send(rf.Key(prompt_id, level))

    def unplug(self) -> None:
        """Pull the cable: the symlink goes away and the driver's fd hangs up."""
        with self._lock:
            try:
                self._link.unlink()
            except FileNotFoundError:
                pass
            for fd in (self._master, self._slave):
                if fd is not None:
                    os.close(fd)
            self._master = self._slave = None
            self._lit, self._prompt_id = False, 0  # power lost: the pad forgets its prompt
            self._deadline = None
            self._parser.reset()

    def replug(self) -> None:
        """Plug the cable back in: a fresh pty behind the same symlink."""
        with self._lock:
            if self._master is not None:
                return
            master, slave = os.openpty()
            tty.setraw(slave)  # no echo, no line editing, before anyone opens it
            os.set_blocking(master, False)
            tmp = self._link.with_name(self._link.name + ".new")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(os.ttyname(slave))
            os.replace(tmp, self._link)
            self._master, self._slave = master, slave

    def silence(self, silent: bool) -> None:
        """A hung firmware: reads and ignores everything, says nothing."""
        with self._lock:
            self._silent = silent

    def inject(self, data: bytes) -> None:
        """Put raw bytes on the line towards the host: noise, forged or corrupt frames."""
        with self._lock:
            if self._master is not None:
                os.write(self._master, data)

    def set_faults(self, faults: int) -> None:
        """Report hardware faults (``ratingpad_frame.FAULT_KEY`` / ``FAULT_LIGHT``) in STATUS."""
        with self._lock:
            self._faults = faults
            if faults and self._master is not None and not self._silent:
                self._send(rf.Error(rf.ErrorCode.HARDWARE, 0))

    # --- the firmware -----------------------------------------------------------------------

    def _send(self, msg: rf.Message) -> None:
        data = rf.encode(msg)
        assert self._master is not None
        try:
            os.write(self._master, data)
        except OSError as e:  # buffer full with nobody reading: a real UART drops bytes too
            log.debug("rating-pad emulator dropped %s: %s", type(msg).__name__, e)
            return
        if self._pace_baud:
            time.sleep(len(data) * 10 / self._pace_baud)

    def _bad_frame(self, err: ProtocolError) -> None:
        log.debug("rating-pad emulator got a bad frame: %s", err)
        self._send(rf.Error(rf.ErrorCode.CHECKSUM, 0))

    def _handle(self, msg: rf.Message) -> None:
        match msg:
            case rf.Ping(nonce):
                self._send(rf.Pong(nonce))
            case rf.GetStatus():
                self._send(rf.Status(self._lit, self._prompt_id, self._faults))
            case rf.GetVersion():
                self._send(rf.Version(rf.PROTOCOL_VERSION, self._firmware))
            case rf.Prompt(prompt_id, timeout_ds):
                self._lit, self._prompt_id = True, prompt_id
                self._deadline = time.monotonic() + timeout_ds / 10 if timeout_ds else None
                self._send(rf.Status(self._lit, self._prompt_id, self._faults))
            case rf.Cancel(prompt_id):
                if prompt_id in (0, self._prompt_id):
                    self._lit, self._deadline = False, None
                self._send(rf.Status(self._lit, self._prompt_id, self._faults))
            case _:  # a pad-to-host message sent to the pad
                self._send(rf.Error(rf.ErrorCode.UNKNOWN_COMMAND, rf.to_frame(msg).cmd))

    def _process(self, frames: list[rf.Frame]) -> None:
        for frame in frames:
            try:
                msg = rf.parse_message(frame)
            except ProtocolError:
                known = frame.cmd in rf.KNOWN_COMMANDS
                code = rf.ErrorCode.BAD_PAYLOAD if known else rf.ErrorCode.UNKNOWN_COMMAND
                self._send(rf.Error(code, frame.cmd))
                continue
            self.received.append(msg)
            self._handle(msg)

    def _run(self) -> None:
        last_byte_at = 0.0
        while not self._stop.is_set():
            with self._lock:
                master = self._master
            if master is None:
                self._stop.wait(0.02)
                continue
            try:
                ready, _, _ = select.select([master], [], [], 0.05)
            except (OSError, ValueError):  # closed by unplug() meanwhile
                continue
            with self._lock:
                if self._master != master:
                    continue
                now = time.monotonic()
                data = b""
                if ready:
                    try:
                        data = os.read(master, 256)
                    except BlockingIOError:
                        pass
                    except OSError:
                        self._stop.wait(0.02)
                        continue
                if data:
                    last_byte_at = now
                    frames = self._parser.feed(data)
                elif self._parser.pending and now - last_byte_at > 0.1:
                    frames = self._parser.expire()
                else:
                    frames = []
                if not self._silent:
                    self._process(frames)
                if self._deadline is not None and now >= self._deadline:
                    self._lit, self._deadline = False, None
                    if not self._silent:
                        self._send(rf.Timeout(self._prompt_id))
