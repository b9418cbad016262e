"""The ID-card reader driver: a SAM module on a serial port (real hardware or the pty emulator).

A reader thread owns the pyserial port and polls find (20 01) -> select (20 02) -> read (30 01)
every ``poll_interval_s``. It emits CARD_PLACED once per card, CARD_REMOVED when the card has
been missing for ``miss_limit`` polls (by default as many as make ``REMOVED_AFTER_S``), and
STATUS whenever the device status changes. Damaged
or cut-off replies are re-requested; a port that disappears is reopened until it comes back
(status NO_DEVICE meanwhile): the thread never dies of a device fault.

Framing lives in ``idcard_frame`` and the text block in ``idcard_text``; this module is only
the transport and the state machine.
"""

from __future__ import annotations

import logging
import math
import termios
import threading
import time

import serial

from kiosk.config import SerialIdCard, SimulatedDevice
from kiosk.errors import (
    CardError,
    ConfigError,
    DeviceError,
    DeviceNotFoundError,
    DeviceTimeoutError,
    NoCardError,
    ProtocolError,
)
from kiosk.hardware import idcard_frame as f
from kiosk.hardware.base import DeviceEvent, DeviceStatus, EventKind, EventSink
from kiosk.hardware.idcard_text import CardDataError, CardRead, PhotoDecoder, parse_card
from kiosk.identity import Identity

log = logging.getLogger(__name__)

_PORT_ERRORS = (serial.SerialException, OSError, termios.error)
#: worth asking again at once: the bytes were damaged on the line, not refused
_RETRYABLE = (f.FrameChecksumError, f.FrameTooShortError, f.FrameFormatError, f.SamRejectedFrameError)
_READ_SLICE_S = 0.1  # a blocking read never outlasts this, so stop() and deadlines stay prompt
#: how often an empty reader asks for a card: what a resident waits at most beyond the read
#: itself (a find on the wire is ~2 ms at 115200 baud; 0.3 s made the poll the largest part)
POLL_INTERVAL_S = 0.1
#: a card missing this long is gone (a hand that lifts it for less is not a removal): what two
#: misses at the former 0.3 s poll gave, kept when the poll got faster
REMOVED_AFTER_S = 0.6


def _same_card(a: Identity, b: Identity) -> bool:
    return (a.card_type, a.id_number, a.name, a.valid_to) == (b.card_type, b.id_number, b.name, b.valid_to)


class SerialIdCardReader:
    """``CardReader`` for a 二代证 SAM module on ``port`` (a device path or the emulator's link)."""

    name = "idcard"

    def __init__(
        self,
        port: str,
        *,
        baud: int = 115200,
        poll_interval_s: float = POLL_INTERVAL_S,
        timeout_s: float = 1.0,
        retries: int = 2,
        miss_limit: int | None = None,
        reopen_interval_s: float = 1.0,
        photo_decoder: PhotoDecoder | None = None,
    ) -> None:
        self.port = port
        self.baud = baud
        self.poll_interval_s = poll_interval_s
        self.timeout_s = timeout_s
        self.retries = retries
        if miss_limit is None:
            miss_limit = max(2, math.ceil(REMOVED_AFTER_S / poll_interval_s - 1e-9))
        self.miss_limit = max(1, miss_limit)
        self.reopen_interval_s = reopen_interval_s
        self.photo_decoder = photo_decoder
        self._serial: serial.Serial | None = None
        self._parser = f.FrameParser()
        self._sink: EventSink | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._reconnect = threading.Event()
        self._changed = threading.Condition()
        self._status = DeviceStatus.NO_DEVICE
        self._last_error = ""
        self._read: CardRead | None = None
        self._misses = 0
        self._card_error = ""  # the card error last reported; cleared when the field changes
        self._confirm = False  # after a fault, re-read a card still present to be sure it is the same
        #: counters a technician screen or a benchmark can read
        self.stats = {"reads": 0, "retries": 0, "reopens": 0, "errors": 0}

    # --- Device ----------------------------------------------------------------------------

    def start(self, sink: EventSink) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._sink = sink
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="idcard-reader", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        port = self._serial
        if port is not None:
            try:
                port.cancel_read()
            except Exception:  # noqa: BLE001 - best effort; the read slice is short anyway
                pass
        if self._thread is not None:
            self._thread.join(timeout=3)
            self._thread = None
        self._close()

    def status(self) -> DeviceStatus:
        return self._status

    def last_error(self) -> str:
        return self._last_error

    def reconnect(self) -> None:
        self._reconnect.set()

    def current(self) -> Identity | None:
        read = self._read
        return read.identity if read else None

    def card_present(self) -> bool:
        return self._read is not None

    def current_read(self) -> CardRead | None:
        """The card on the reader with its raw WLT photo (and decoded photo if a decoder is set)."""
        return self._read

    # --- one card, without the thread (technician command) ---------------------------------

    def read_once(self, timeout_s: float = 10.0) -> Identity:
        """Wait up to ``timeout_s`` for a card and read it. Raises ``DeviceTimeoutError`` if none
        comes, ``DeviceNotFoundError`` if the port cannot be opened, ``ProtocolError`` if the
        module's replies stay damaged after retries."""
        deadline = time.monotonic() + timeout_s
        if self._thread is not None and self._thread.is_alive():
            with self._changed:
                while self._read is None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise DeviceTimeoutError(self._no_card_text(timeout_s))
                    self._changed.wait(left)
                return self._read.identity
        self._stop.clear()  # no thread runs: a previous stop() must not cut this read short
        port = self._open()
        last: Exception | None = None
        try:
            while True:
                try:
                    return self._read_card(port).identity
                except (NoCardError, f.CardSelectError) as e:
                    last = None if isinstance(e, NoCardError) else e
                except CardDataError:
                    raise  # the card itself is unreadable: waiting will not change it
                except (CardError, DeviceTimeoutError) as e:
                    last = e
                left = deadline - time.monotonic()
                if left <= 0:
                    detail = f" (last error: {last})" if last else ""
                    raise DeviceTimeoutError(self._no_card_text(timeout_s) + detail) from last
                time.sleep(min(self.poll_interval_s, left))
        finally:
            port.close()

    def _no_card_text(self, timeout_s: float) -> str:
        return f"no card was read on {self.port} within {timeout_s:g} s"

    # --- transport -------------------------------------------------------------------------

    def _open(self) -> serial.Serial:
        try:
            return serial.Serial(
                self.port, self.baud, timeout=_READ_SLICE_S, write_timeout=self.timeout_s, exclusive=True
            )
        except (ValueError, *_PORT_ERRORS) as e:
            raise DeviceNotFoundError(f"cannot open the ID-card reader: {e}") from e

    def _close(self) -> None:
        port, self._serial = self._serial, None
        if port is not None:
            try:
                port.close()
            except _PORT_ERRORS:
                pass

    def _exchange(self, port: serial.Serial, command: tuple[int, int], what: str) -> f.Response:
        """Send one request and read one reply: 7 header bytes, then LEN more."""
        parser = self._parser
        parser.reset()
        try:
            port.reset_input_buffer()  # a late reply to an earlier request must not be taken for this one
            port.write(f.encode_request(*command))
            deadline = time.monotonic() + self.timeout_s
            while time.monotonic() < deadline and not self._stop.is_set():
                chunk = port.read(parser.needed())
                if chunk:
                    replies = parser.feed(chunk)
                    if replies:
                        return replies[0]
        except f.FrameError as e:
            raise type(e)(f"{what}: damaged reply: {e}") from e
        except _PORT_ERRORS as e:
            raise DeviceNotFoundError(f"{what}: port {self.port} failed: {e}") from e
        if parser.buffered:
            raise parser.incomplete_error(what)
        raise DeviceTimeoutError(f"{what}: no reply from the reader within {self.timeout_s:g} s")

    def _transact(self, port: serial.Serial, command: tuple[int, int], what: str) -> f.Response:
        """``_exchange`` with re-requests for damaged replies; raises what SW3 stands for."""
        for attempt in range(self.retries + 1):
            try:
                return self._exchange(port, command, what).raise_for_status(what)
            except _RETRYABLE as e:
                if attempt == self.retries:
                    raise type(e)(f"{e} (after {attempt + 1} attempts)", code=e.code) from e
                self.stats["retries"] += 1
                log.info("idcard: %s; asking again (%d/%d)", e, attempt + 1, self.retries)
        raise AssertionError("unreachable")

    def _read_card(self, port: serial.Serial) -> CardRead:
        self._transact(port, f.FIND_CARD, "find card")
        return self._select_and_read(port)

    def _select_and_read(self, port: serial.Serial) -> CardRead:
        self._transact(port, f.SELECT_CARD, "select card")
        reply = self._transact(port, f.READ_TEXT_PHOTO, "read card")
        try:
            text, wlt = f.split_read_data(reply.data)
        except f.FrameError as e:
            raise ProtocolError(f"read card: {e}") from e
        read = parse_card(text, wlt, self.photo_decoder)
        self.stats["reads"] += 1
        return read

    # --- the reader thread -----------------------------------------------------------------

    def _emit(self, kind: EventKind, payload: object = None) -> None:
        sink = self._sink
        if sink is None:
            return
        try:
            sink(DeviceEvent(device=self.name, kind=kind, payload=payload))
        except Exception:  # noqa: BLE001 - a faulty observer must not stop the reader
            log.exception("idcard: event sink failed on %s", kind.value)

    def _set_status(self, status: DeviceStatus, error: str = "") -> None:
        if error:
            self._last_error = error
        if status != self._status:
            # DEBUG: the hub says it at INFO, with the device's name
            log.debug("idcard: %s -> %s %s", self._status.value, status.value, error)
            self._status = status
            self._emit(EventKind.STATUS, status)
        with self._changed:
            self._changed.notify_all()

    def _set_read(self, read: CardRead | None) -> None:
        with self._changed:
            self._read = read
            self._changed.notify_all()

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._reconnect.is_set():
                self._reconnect.clear()
                self._close()
            if self._serial is None:
                try:
                    self._serial = self._open()
                    self.stats["reopens"] += 1
                except DeviceNotFoundError as e:
                    self._fault(DeviceStatus.NO_DEVICE, e)
                    self._stop.wait(self.reopen_interval_s)
                    continue
            try:
                self._poll(self._serial)
            except DeviceNotFoundError as e:
                self._close()
                self._fault(DeviceStatus.NO_DEVICE, e)
            except DeviceTimeoutError as e:
                if self._stop.is_set():
                    break  # cut short by stop(), not by the device
                self._fault(DeviceStatus.OFFLINE, e)
            except (ProtocolError, f.SamError) as e:
                self._fault(DeviceStatus.HARDWARE_ERROR, e)
            except CardError as e:  # the module works; this card did not read
                self._set_status(DeviceStatus.ONLINE)
                self._last_error = str(e)
                if str(e) != self._card_error:  # once per card, not once per poll
                    self._card_error = str(e)
                    self._emit(EventKind.ERROR, str(e))
            except DeviceError as e:
                self._fault(DeviceStatus.HARDWARE_ERROR, e)
            except Exception as e:  # noqa: BLE001 - the thread must outlive any surprise
                log.exception("idcard: unexpected failure")
                self._close()
                self._fault(DeviceStatus.HARDWARE_ERROR, DeviceError(f"unexpected: {e!r}"))
            else:
                self._set_status(DeviceStatus.ONLINE)
            self._stop.wait(self.poll_interval_s)

    def _fault(self, status: DeviceStatus, err: Exception) -> None:
        self.stats["errors"] += 1
        self._confirm = True
        if status != self._status or str(err) != self._last_error:
            self._emit(EventKind.ERROR, str(err))
        self._set_status(status, str(err))

    def _poll(self, port: serial.Serial) -> None:
        held = self._read
        try:
            self._transact(port, f.FIND_CARD, "find card")
        except NoCardError:
            self._misses += 1
            self._card_error = ""
            # a card seen again after a miss may be another one: read it to be sure
            self._confirm = held is not None
            if held is not None and self._misses >= self.miss_limit:
                self._set_status(DeviceStatus.ONLINE)  # the module answered: say so before the card news
                self._set_read(None)
                log.info("idcard: card removed")
                self._emit(EventKind.CARD_REMOVED)
            return
        self._misses = 0
        if held is not None and not self._confirm:
            return  # the same card is still on the reader
        read = self._select_and_read(port)
        self._confirm = False
        self._card_error = ""
        self._set_status(DeviceStatus.ONLINE)
        if held is not None and _same_card(held.identity, read.identity):
            self._set_read(read)
            return
        if held is not None:
            self._set_read(None)
            self._emit(EventKind.CARD_REMOVED)
        self._set_read(read)
        log.info("idcard: card placed %r", read.identity)
        self._emit(EventKind.CARD_PLACED, read.identity)


def build(cfg: SerialIdCard | SimulatedDevice) -> tuple[SerialIdCardReader, None]:
    """The reader a ``[devices.idcard]`` section asks for (``driver = "serial"``). A simulated
    reader is built by the composition root from ``kiosk.sim``."""
    if isinstance(cfg, SerialIdCard):
        reader = SerialIdCardReader(
            cfg.port, baud=cfg.baud, poll_interval_s=cfg.poll_interval_s, timeout_s=cfg.timeout_s
        )
        return reader, None
    raise ConfigError(f"devices.idcard: driver {getattr(cfg, 'driver', cfg)!r} has no ID-card reader here")
