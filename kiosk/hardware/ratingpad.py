"""The evaluation pad (好差评评价器) driver: our serial protocol behind the ``RatingPad`` port.

One reader thread owns the pyserial port: it opens it (and reopens it when it goes away),
writes what ``prompt()`` / ``cancel()`` queued, feeds what it reads to the frame parser, pings
every ``heartbeat_s`` and keeps the pad's light in step with what the host wants. Callers on
other threads never touch the port.

A prompt has an id; the pad quotes it in KEY and TIMEOUT. Only an answer to the open prompt
counts, and it closes the prompt, so a rating is reported once: keys on a dark pad, keys after
``cancel()`` (the resident rated on screen) and a second key are all ignored.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from typing import TYPE_CHECKING

from kiosk.errors import ConfigError, ProtocolError
from kiosk.hardware import ratingpad_frame as rf
from kiosk.hardware.base import DeviceEvent, DeviceStatus, EventKind, EventSink

if TYPE_CHECKING:
    import serial

    from kiosk import config

log = logging.getLogger(__name__)

#: 5 非常满意 ... 1 非常不满意 (国办发〔2019〕51号 five levels)
LEVEL_LABELS: dict[int, tuple[str, str]] = {
    5: ("非常满意", "Very satisfied"),
    4: ("满意", "Satisfied"),
    3: ("基本满意", "Basically satisfied"),
    2: ("不满意", "Dissatisfied"),
    1: ("非常不满意", "Very dissatisfied"),
}

#: the host gives up this long after the pad should have sent TIMEOUT (a lost frame, a dead pad)
HOST_TIMEOUT_GRACE_S = 0.5


class SerialRatingPad:
    """An evaluation pad on a serial port speaking ``docs/ratingpad-protocol.md``."""

    name = "ratingpad"

    def __init__(
        self,
        port: str,
        *,
        baud: int = 9600,
        heartbeat_s: float = 5.0,
        miss_limit: int = 3,
    ) -> None:
        if heartbeat_s <= 0 or miss_limit < 1:
            raise ValueError("heartbeat_s must be > 0 and miss_limit >= 1")
        self.port = port
        self.baud = baud
        self.heartbeat_s = heartbeat_s
        self.miss_limit = miss_limit
        #: firmware text from the pad's VERSION answer, '' until it has answered
        self.firmware = ""
        # how long one read waits; prompt()/cancel()/stop() cut it short, so it only sets how
        # often deadlines and heartbeats are checked
        self._tick_s = min(0.1, heartbeat_s / 4)
        self._lock = threading.Lock()
        self._sink: EventSink | None = None
        self._status = DeviceStatus.OFFLINE
        self._last_error = ""
        self._prompt_id = 0  # the open prompt, 0 when none
        self._deadline: float | None = None  # host-side deadline of the open prompt
        # start the ids at random: a key quoting an id from before a restart of the kiosk
        # (the pad was still lit) is then unlikely to match the first new prompt
        self._next_id = random.randrange(255)
        self._pad_state: rf.Status | None = None  # last STATUS the pad sent on this connection
        self._outbox: queue.SimpleQueue[rf.Message] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._reopen = threading.Event()
        self._thread: threading.Thread | None = None
        # the open port, shared only so prompt()/cancel() can cut the reader's wait short
        self._port_lock = threading.Lock()
        self._port: serial.Serial | None = None
        self._parser = rf.FrameParser(on_error=self._bad_frame)

    # --- the RatingPad port -----------------------------------------------------------------

    def start(self, sink: EventSink) -> None:
        if self._thread is not None:
            return
        self._sink = sink
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="ratingpad", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def status(self) -> DeviceStatus:
        with self._lock:
            return self._status

    def last_error(self) -> str:
        with self._lock:
            return self._last_error

    def reconnect(self) -> None:
        self._reopen.set()

    def prompt(self, timeout_s: float) -> None:
        if timeout_s <= 0:
            raise ValueError("a rating prompt needs a timeout > 0")
        with self._lock:
            self._next_id = self._next_id % 255 + 1
            self._prompt_id = self._next_id
            self._deadline = time.monotonic() + timeout_s + HOST_TIMEOUT_GRACE_S
            msg = rf.Prompt.for_seconds(self._prompt_id, timeout_s)
        self._outbox.put(msg)
        self._wake()

    def cancel(self) -> None:
        with self._lock:
            prompt_id, self._prompt_id, self._deadline = self._prompt_id, 0, None
        if prompt_id:
            self._outbox.put(rf.Cancel(prompt_id))
            self._wake()

    @property
    def prompting(self) -> bool:
        with self._lock:
            return self._prompt_id != 0

    def _wake(self) -> None:
        """Make the reader thread send what was queued now, not at the end of its read tick."""
        with self._port_lock:  # held by the reader while it closes the port: no stale fd
            if self._port is not None:
                try:
                    self._port.cancel_read()
                except (OSError, AttributeError):  # not every transport has it; the tick still runs
                    pass

    # --- state changes (called on the reader thread) -----------------------------------------

    def _emit(self, kind: EventKind, payload: object = None) -> None:
        if self._sink is None:
            return
        try:
            self._sink(DeviceEvent(self.name, kind, payload))
        except Exception:  # a broken sink must not kill the reader thread
            log.exception("rating-pad event sink failed on %s", kind)

    def _set_status(self, status: DeviceStatus, error: str | None = None) -> None:
        with self._lock:
            changed = status != self._status
            self._status = status
            if error is not None:
                self._last_error = error
        if changed:
            # DEBUG: the hub says it at INFO, with the device's name
            log.debug("rating pad %s: %s%s", self.port, status, f" ({error})" if error else "")
            self._emit(EventKind.STATUS, status)

    def _bad_frame(self, err: ProtocolError) -> None:
        log.warning("rating pad %s: %s", self.port, err)
        with self._lock:
            self._last_error = str(err)

    def _close_prompt(self, prompt_id: int) -> bool:
        """Close the prompt if ``prompt_id`` is the open one; True if it was."""
        with self._lock:
            if prompt_id == 0 or prompt_id != self._prompt_id:
                return False
            self._prompt_id, self._deadline = 0, None
            return True

    def _handle(self, msg: rf.Message) -> None:
        match msg:
            case rf.Key(prompt_id, level):
                if self._close_prompt(prompt_id):
                    self._emit(EventKind.RATING, level)
                else:
                    log.debug(
                        "rating pad: key for prompt %d ignored (not the open prompt)", prompt_id
                    )
            case rf.Timeout(prompt_id):
                if self._close_prompt(prompt_id):
                    self._emit(EventKind.RATING_TIMEOUT)
            case rf.Status(faults=faults):
                self._pad_state = msg
                if faults:
                    self._set_status(
                        DeviceStatus.HARDWARE_ERROR, f"pad reports faults {faults:#04x}"
                    )
                elif self.status() is DeviceStatus.HARDWARE_ERROR:
                    self._set_status(DeviceStatus.ONLINE, "")
                self._reconcile()
            case rf.Version(protocol, firmware):
                self.firmware = firmware
                if protocol != rf.PROTOCOL_VERSION:
                    log.warning(
                        "rating pad speaks protocol %d, this driver %d",
                        protocol,
                        rf.PROTOCOL_VERSION,
                    )
            case rf.Error(code, cmd):
                text = f"pad error {code:#04x} on command {cmd:#04x}"
                if code == rf.ErrorCode.HARDWARE or code >= 0x80:  # 80..FF: vendor faults
                    self._set_status(DeviceStatus.HARDWARE_ERROR, text)
                else:  # our frame was garbled on the way: the next reconcile resends it
                    with self._lock:
                        self._last_error = text
                    self._outbox.put(rf.GetStatus())
            case _:
                pass  # PONG: being alive is all it says

    def _reconcile(self) -> None:
        """Make the pad's light agree with the host: resend a lost PROMPT or CANCEL."""
        pad = self._pad_state
        if pad is None:
            return
        with self._lock:
            prompt_id, deadline = self._prompt_id, self._deadline
        if prompt_id and not (pad.lit and pad.prompt_id == prompt_id):
            left = (deadline or 0) - HOST_TIMEOUT_GRACE_S - time.monotonic()
            if left > 0.1:
                self._outbox.put(rf.Prompt.for_seconds(prompt_id, left))
        elif not prompt_id and pad.lit:
            self._outbox.put(rf.Cancel(pad.prompt_id))

    # --- the reader thread --------------------------------------------------------------------

    def _open(self) -> serial.Serial | None:
        import serial

        try:
            port = serial.Serial(self.port, self.baud, timeout=self._tick_s, write_timeout=1.0)
        except (serial.SerialException, OSError, ValueError) as e:
            # pyserial's text already says "could not open port <path>: <reason>"
            self._set_status(DeviceStatus.NO_DEVICE, str(e))
            return None
        self._parser.reset()
        self._pad_state = None
        while not self._outbox.empty():  # queued before the port was there: reconcile resends
            self._outbox.get_nowait()
        self._set_status(DeviceStatus.OFFLINE, "port open, waiting for the pad to answer")
        for msg in (rf.GetVersion(), rf.Ping(0), rf.GetStatus()):
            self._outbox.put(msg)
        return port

    def _run(self) -> None:
        import serial

        port: serial.Serial | None = None
        next_open = 0.0
        next_beat = 0.0
        misses = 0  # heartbeats sent since the pad last said anything well-framed
        nonce = 0
        last_byte_at = 0.0
        # a frame's bytes come back to back; a pause of two longest frames means it died
        gap_s = max(0.1, 2 * (rf.MAX_PAYLOAD + rf.OVERHEAD) * 10 / self.baud)
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if self._reopen.is_set() and port is not None:
                    self._close(port)
                    port, next_open = None, 0.0
                self._reopen.clear()
                if port is None:
                    if now < next_open:
                        self._stop.wait(min(self._tick_s, next_open - now))
                        continue
                    port = self._open()
                    with self._port_lock:
                        self._port = port
                    if port is None:
                        next_open = now + min(1.0, self.heartbeat_s)
                        continue
                    misses, next_beat = 0, now + self.heartbeat_s
                try:
                    while not self._outbox.empty():
                        port.write(rf.encode(self._outbox.get_nowait()))
                    data = port.read(port.in_waiting or 1)
                except (serial.SerialException, OSError) as e:
                    self._close(port)
                    port = None
                    self._set_status(DeviceStatus.NO_DEVICE, f"lost {self.port}: {e}")
                    continue
                now = time.monotonic()
                if data:
                    last_byte_at = now
                    frames = self._parser.feed(data)
                elif self._parser.pending and now - last_byte_at > gap_s:
                    frames = self._parser.expire()
                else:
                    frames = []
                if frames:
                    misses = 0
                    self._receive(frames)
                self._expire_prompt(now)
                if now >= next_beat:
                    next_beat = now + self.heartbeat_s
                    if misses >= 2 * self.miss_limit:
                        # a wedged USB-serial adapter often recovers only when reopened
                        self._close(port)
                        port = None
                        continue
                    if misses >= self.miss_limit:
                        self._set_status(DeviceStatus.OFFLINE, f"no answer to {misses} heartbeats")
                    misses += 1
                    nonce = (nonce + 1) & 0xFF
                    self._heartbeat(nonce)
        finally:
            if port is not None:
                self._close(port)
            self._set_status(DeviceStatus.OFFLINE, "stopped")

    def _close(self, port: serial.Serial) -> None:
        with self._port_lock:
            self._port = None
            port.close()

    def _receive(self, frames: list[rf.Frame]) -> None:
        for frame in frames:
            try:
                self._handle(rf.parse_message(frame))
            except ProtocolError as e:
                self._bad_frame(e)
        # any well-framed answer proves the pad is alive
        if self.status() in (DeviceStatus.OFFLINE, DeviceStatus.NO_DEVICE):
            self._set_status(DeviceStatus.ONLINE, "")

    def _expire_prompt(self, now: float) -> None:
        """The host's own deadline: the pad's TIMEOUT was lost or the pad is gone."""
        with self._lock:
            expired = self._prompt_id if self._deadline and now >= self._deadline else 0
        if expired and self._close_prompt(expired):
            self._outbox.put(rf.Cancel(expired))
            self._emit(EventKind.RATING_TIMEOUT)

    def _heartbeat(self, nonce: int) -> None:
        self._outbox.put(rf.Ping(nonce))
        pad = self._pad_state
        if self.prompting or pad is None or pad.lit:
            # the light may disagree with the host (a lost PROMPT / CANCEL / TIMEOUT frame)
            self._outbox.put(rf.GetStatus())


def build(cfg: config.SerialRatingPad | config.SimulatedDevice) -> tuple[SerialRatingPad, None]:
    """The driver for a ``[devices.ratingpad]`` section (``driver = "serial"``). A simulated
    pad is built by the composition root from ``kiosk.sim``."""
    from kiosk import config as kc

    if isinstance(cfg, kc.SerialRatingPad):
        return SerialRatingPad(cfg.port, baud=cfg.baud, heartbeat_s=cfg.heartbeat_s), None
    raise ConfigError(
        f"devices.ratingpad: driver {getattr(cfg, 'driver', cfg)!r} has no rating-pad driver here"
    )
