"""The QR / barcode scanner driver: a serial port, a reader thread and SCAN events.

The scanner under the screen (USB-COM or RS-232, serial mode) sends each code it reads as the
code's bytes and a suffix; ``scanner_frame`` turns those bytes into ``ScannedCode``s. One
reader thread owns the pyserial port: it opens it (exclusively), forgets what is in the input
buffer and what arrives in the first ``settle_s`` (a scanner that has just been powered up
or plugged in sends noise and sometimes a banner), then reads. Each code becomes one SCAN
event; framing problems become ERROR events and ``last_error`` (technician text without the
code). A port that goes away (USB unplugged, cable cut) is reported NO_DEVICE and reopened
every ``reopen_interval_s`` until it is back: the thread never dies of a device fault.

A scanner in serial mode answers nothing, so "online" means the port is open and readable;
that is all the host can know until the next scan.

Never logged in full: a code is personal data (an identity token, a payment code). Logs and
events carry its masked form at most.
"""

from __future__ import annotations

import logging
import queue
import termios
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from kiosk.errors import ConfigError, DeviceNotFoundError, DeviceTimeoutError, ProtocolError
from kiosk.hardware.base import DeviceEvent, DeviceStatus, EventKind, EventSink
from kiosk.hardware.scanner_frame import DEFAULT_GAP_S, DEFAULT_MAX_BYTES, CodeFramer, ScannedCode

if TYPE_CHECKING:
    import serial

    from kiosk import config

log = logging.getLogger(__name__)

_READ_SLICE_S = 0.05  # one read never outlasts this: stop() and the gap check stay prompt


class SerialScanner:
    """``CodeScanner`` for a scanner on ``port`` (a device path or the emulator's link)."""

    name = "scanner"

    def __init__(
        self,
        port: str,
        *,
        baud: int = 9600,
        suffix: str = "CR",
        max_bytes: int = DEFAULT_MAX_BYTES,
        gap_s: float = DEFAULT_GAP_S,
        settle_s: float = 0.2,
        reopen_interval_s: float = 1.0,
    ) -> None:
        self.port = port
        self.baud = baud
        self.settle_s = settle_s
        self.reopen_interval_s = reopen_interval_s
        self._framer = CodeFramer(suffix, max_bytes=max_bytes, gap_s=gap_s, on_error=self._bad_code)
        self._lock = threading.Lock()
        self._status = DeviceStatus.NO_DEVICE
        self._last_error = "not started"
        self._sink: EventSink | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._reopen = threading.Event()
        self._serial: serial.Serial | None = None
        self._waiters: list[queue.SimpleQueue[ScannedCode]] = []
        #: counters a technician screen or a benchmark can read
        self.stats = {"codes": 0, "errors": 0, "opens": 0, "dropped_at_open": 0}

    # --- Device ----------------------------------------------------------------------------

    def start(self, sink: EventSink) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._sink = sink
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="scanner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._cancel_read()
        if self._thread is not None:
            self._thread.join(timeout=3)
            self._thread = None
        self._close()

    def status(self) -> DeviceStatus:
        with self._lock:
            return self._status

    def last_error(self) -> str:
        with self._lock:
            return self._last_error

    def reconnect(self) -> None:
        self._reopen.set()
        self._cancel_read()

    # --- one code (technician command) -------------------------------------------------------

    def read_once(self, timeout_s: float = 10.0, on_ready: Callable[[], object] | None = None) -> ScannedCode:
        """Wait up to ``timeout_s`` for one code. With the thread running, the next code it
        reads; otherwise the port is opened here for the wait (``on_ready`` is called once it
        is open and settled). Raises ``DeviceNotFoundError`` when the port cannot be opened,
        ``DeviceTimeoutError`` when nothing is scanned."""
        waiter: queue.SimpleQueue[ScannedCode] = queue.SimpleQueue()
        with self._lock:
            self._waiters.append(waiter)
        owned = self._thread is None or not self._thread.is_alive()
        try:
            if owned:
                self._stop.clear()
                self._serial = self._open()  # raises DeviceNotFoundError
                self._settle(self._serial)
            if on_ready is not None:
                on_ready()
            deadline = time.monotonic() + timeout_s
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise DeviceTimeoutError(f"no code was scanned on {self.port} within {timeout_s:g} s")
                if owned:
                    self._read(self._serial)  # type: ignore[arg-type]
                try:
                    return waiter.get_nowait() if owned else waiter.get(timeout=min(left, 0.1))
                except queue.Empty:
                    continue
        finally:
            with self._lock:
                self._waiters.remove(waiter)
            if owned:
                self._close()

    # --- the reader thread -------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._reopen.is_set():
                self._reopen.clear()
                self._close()
            if self._serial is None:
                try:
                    self._serial = self._open()
                except DeviceNotFoundError as e:
                    self._set_status(DeviceStatus.NO_DEVICE, str(e))
                    self._stop.wait(self.reopen_interval_s)
                    continue
                self._settle(self._serial)
                self._set_status(DeviceStatus.ONLINE, "")
            try:
                self._read(self._serial)
            except DeviceNotFoundError as e:
                self._close()
                self.stats["errors"] += 1
                self._emit(EventKind.ERROR, str(e))
                self._set_status(DeviceStatus.NO_DEVICE, str(e))
                self._stop.wait(self.reopen_interval_s)
            except Exception as e:  # noqa: BLE001 - the thread must outlive any surprise
                log.exception("scanner: unexpected failure")
                self._close()
                self._set_status(DeviceStatus.HARDWARE_ERROR, f"unexpected: {e!r}")
                self._stop.wait(self.reopen_interval_s)
        self._set_status(DeviceStatus.OFFLINE, "stopped")

    def _read(self, port: serial.Serial) -> None:
        """One slice of reading: feed what came, hand out the codes it completed."""
        import serial as pyserial

        try:
            data = port.read(port.in_waiting or 1)
        except (pyserial.SerialException, OSError, termios.error, TypeError, AttributeError) as e:
            # pyserial raises TypeError/AttributeError when the port is closed under a read
            raise DeviceNotFoundError(f"lost the scanner on {self.port}: {e}") from e
        codes = self._framer.feed(data) if data else []
        if not data:
            self._framer.expire()
        for code in codes:
            self._deliver(code)

    def _settle(self, port: serial.Serial) -> None:
        """Drop what a scanner sends as it powers up or as its port appears."""
        import serial as pyserial

        dropped = 0
        try:
            port.reset_input_buffer()
            until = time.monotonic() + self.settle_s
            while time.monotonic() < until and not self._stop.is_set():
                dropped += len(port.read(port.in_waiting or 1))
        except (pyserial.SerialException, OSError, termios.error):
            return  # the next read reports it
        self._framer.reset()
        if dropped:
            self.stats["dropped_at_open"] += dropped
            log.info("scanner: %d stray byte(s) dropped as the port opened", dropped)

    def _deliver(self, code: ScannedCode) -> None:
        self.stats["codes"] += 1
        log.info("scanner: code read %s", code)  # masked by ScannedCode's repr
        with self._lock:
            waiters = list(self._waiters)
        for waiter in waiters:
            waiter.put(code)
        self._emit(EventKind.SCAN, code)

    def _bad_code(self, err: ProtocolError) -> None:
        self.stats["errors"] += 1
        log.warning("scanner %s: %s", self.port, err)
        with self._lock:
            self._last_error = str(err)
        self._emit(EventKind.ERROR, str(err))

    # --- transport -------------------------------------------------------------------------

    def _open(self) -> serial.Serial:
        import serial as pyserial

        try:
            port = pyserial.Serial(self.port, self.baud, timeout=_READ_SLICE_S, exclusive=True)
        except (ValueError, pyserial.SerialException, OSError, termios.error) as e:
            raise DeviceNotFoundError(f"cannot open the scanner: {e}") from e
        self.stats["opens"] += 1
        return port

    def _close(self) -> None:
        port, self._serial = self._serial, None
        if port is not None:
            try:
                port.close()
            except Exception:  # noqa: BLE001 - closing a port that is already gone
                pass

    def _cancel_read(self) -> None:
        port = self._serial
        if port is not None:
            try:
                port.cancel_read()
            except Exception:  # noqa: BLE001 - best effort; the read slice is short anyway
                pass

    # --- events ------------------------------------------------------------------------------

    def _set_status(self, status: DeviceStatus, error: str) -> None:
        with self._lock:
            changed = status != self._status
            self._status = status
            if error or status.usable:
                self._last_error = error
        if changed:
            log.debug("scanner %s: %s%s", self.port, status, f" ({error})" if error else "")
            self._emit(EventKind.STATUS, status)

    def _emit(self, kind: EventKind, payload: object = None) -> None:
        sink = self._sink
        if sink is None:
            return
        try:
            sink(DeviceEvent(self.name, kind, payload))
        except Exception:  # noqa: BLE001 - a faulty observer must not stop the reader
            log.exception("scanner: event sink failed on %s", kind.value)


def build(cfg: config.SerialScanner | config.SimulatedDevice) -> tuple[SerialScanner, None]:
    """The driver for a ``[devices.scanner]`` section (``driver = "serial"``). A simulated
    scanner is built by the composition root from ``kiosk.sim``."""
    from kiosk import config as kc

    if isinstance(cfg, kc.SerialScanner):
        return SerialScanner(cfg.port, baud=cfg.baud, suffix=cfg.suffix, max_bytes=cfg.max_bytes), None
    raise ConfigError(f"devices.scanner: driver {getattr(cfg, 'driver', cfg)!r} has no scanner driver here")
