"""The social-security-card reader (社会保障卡): a monitor thread and card events over a transport.

``SocialSecurityCardReader`` is the ``CardReader`` the hub sees (name ``"sscard"``). Its
thread waits for reader changes, reads a card as soon as it is present (also one already on
the reader at start) and emits CARD_PLACED with a ``SocialSecurityCard``, CARD_REMOVED, ERROR
and STATUS events. It never dies: when pcscd goes away or the reader is unplugged it reports
OFFLINE / NO_DEVICE, throws the PC/SC context away and builds a new one until it works.

A ``CardTransport`` is the seam between the reader logic and a card: ``sscard_pcsc``'s
``PcscTransport`` (pyscard against pcscd) on a terminal; in simulated mode the composition
root passes ``kiosk.sim.sscard_slot.DirectTransport`` (an in-process virtual card).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import NamedTuple, Protocol, TypeVar

from kiosk.config import NoDevice, PcscSsCard, SimulatedDevice
from kiosk.errors import (
    CardError,
    CardRemovedError,
    ConfigError,
    DeviceError,
    DeviceNotFoundError,
    NoCardError,
)
from kiosk.hardware import sscard_apdu
from kiosk.hardware.base import DeviceEvent, DeviceStatus, EventKind, EventSink
from kiosk.hardware.sscard_apdu import Transmit
from kiosk.identity import SocialSecurityCard

__all__ = [
    "CardTransport",
    "PcscServiceError",
    "ReaderState",
    "SocialSecurityCardReader",
    "build",
]

log = logging.getLogger(__name__)

T = TypeVar("T")


class ReaderState(NamedTuple):
    """What one look at the reader saw."""

    reader: str | None  # the reader's name; None when there is no (matching) reader
    present: bool  # a card is in the reader
    counter: int = 0  # changes on every insertion / removal, so a swapped card is noticed


class CardTransport(Protocol):
    """What the reader logic needs from a way of reaching a card."""

    def open(self) -> None:
        """Get ready (PC/SC: establish a context). Raises DeviceError when impossible."""

    def close(self) -> None:
        """Release everything. Idempotent, never raises."""

    def wait_change(self, timeout_s: float) -> ReaderState:
        """The reader state, after it changes or after ``timeout_s`` (the first call answers
        at once). Raises DeviceError when the service itself is gone."""

    def cancel(self) -> None:
        """Wake a ``wait_change`` blocked in another thread."""

    def connect(self) -> Transmit:
        """Connect to the card now present and return its transmit. Raises NoCardError."""

    def disconnect(self) -> None: ...

    def missing_reader_reason(self) -> str:
        """Why ``wait_change`` saw no reader, as technician text."""


class PcscServiceError(DeviceNotFoundError):
    """pcscd is not running or went away; the context must be built again."""

    message_zh = "读卡服务未运行，请联系工作人员"
    message_en = "The card service is not running, please ask staff for help"



class SocialSecurityCardReader:
    """Reads 社会保障卡 through a ``CardTransport`` and reports them as device events."""

    name = "sscard"

    def __init__(
        self,
        transport: CardTransport,
        *,
        poll_s: float = 0.5,
        retry_s: float = 1.0,
        read_attempts: int = 2,
    ) -> None:
        self.transport = transport
        self._poll_s = poll_s
        self._retry_s = retry_s
        self._read_attempts = max(1, read_attempts)
        self._sink: EventSink | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._reopen = threading.Event()
        self._changed = threading.Condition()
        self._status = DeviceStatus.OFFLINE
        self._last_error = ""
        self._current: SocialSecurityCard | None = None
        self._seen: int | None = None  # counter of the card on the reader, read or not
        self.last_read_error: CardError | None = None  # for the UI's resident-facing text
        self.reads = 0  # completed card reads; tests and the admin screen read it
        #: work on the card (PIN commands) the monitor thread runs between two looks at the reader
        self._jobs: queue.SimpleQueue[tuple[Callable[[Transmit], object], Future]] = queue.SimpleQueue()

    # --- Device ---------------------------------------------------------------------------

    def start(self, sink: EventSink) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._sink = sink
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sscard-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.transport.cancel()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(5.0)
        self.transport.close()

    def status(self) -> DeviceStatus:
        return self._status

    def last_error(self) -> str:
        return self._last_error

    def reconnect(self) -> None:
        """Throw the PC/SC context away and build a new one (technician action)."""
        self._reopen.set()
        self.transport.cancel()

    def current(self) -> SocialSecurityCard | None:
        return self._current

    def card_present(self) -> bool:
        """A card is in the slot, read or not (an unreadable card must still be taken out)."""
        return self._seen is not None or self._current is not None

    # --- one read, for the CLI and the admin self-test --------------------------------------

    def read_once(self, timeout_s: float) -> SocialSecurityCard:
        """Wait up to ``timeout_s`` for a card and read it. With the monitor running this is the
        card the monitor has read (waiting for one if need be); otherwise the transport is
        opened here, used for one read and closed again."""
        if self._thread is not None and self._thread.is_alive():
            return self._wait_current(timeout_s)
        deadline = time.monotonic() + timeout_s
        self.transport.open()
        try:
            while True:
                remaining = deadline - time.monotonic()
                state = self.transport.wait_change(max(0.0, min(remaining, self._poll_s)))
                if state.reader is not None and state.present:
                    return self._read()
                if remaining <= 0:
                    if state.reader is None:
                        raise DeviceNotFoundError(self.transport.missing_reader_reason())
                    raise NoCardError(f"no card was placed on the reader within {timeout_s:g} s")
        finally:
            self.transport.close()

    # --- commands to the card (its PIN) -----------------------------------------------------

    def run_on_card(self, work: Callable[[Transmit], T], timeout_s: float = 15.0) -> T:
        """Run ``work(transmit)`` against the card in the reader and return what it returns.

        With the monitor running the work is done on its thread, between two looks at the
        reader: one thread owns the PC/SC context, and the card is never read and commanded at
        once. Raises ``NoCardError`` when no card is in, what ``work`` raises (``CardError``
        family) otherwise. Blocking: never on the UI thread."""
        if self._thread is None or not self._thread.is_alive():
            self.transport.open()
            try:
                state = self.transport.wait_change(0)  # the first look answers at once: which reader
                if state.reader is None:
                    raise DeviceNotFoundError(self.transport.missing_reader_reason())
                transmit = self.transport.connect()
                try:
                    return work(transmit)
                finally:
                    self.transport.disconnect()
            finally:
                self.transport.close()
        done: Future = Future()
        self._jobs.put((work, done))
        self.transport.cancel()  # wake the monitor out of its wait for a reader change
        try:
            return done.result(timeout_s)
        except TimeoutError:
            done.cancel()
            raise DeviceError(f"the card reader did not take the command within {timeout_s:g} s") from None

    def _run_jobs(self) -> None:
        while True:
            try:
                work, done = self._jobs.get_nowait()
            except queue.Empty:
                return
            if not done.set_running_or_notify_cancel():
                continue
            if self._seen is None:
                done.set_exception(NoCardError("no card in the reader"))
                continue
            try:
                transmit = self.transport.connect()
                try:
                    done.set_result(work(transmit))
                finally:
                    self.transport.disconnect()
            except Exception as e:  # noqa: BLE001 - handed to the caller, whatever it is
                done.set_exception(e)

    def _wait_current(self, timeout_s: float) -> SocialSecurityCard:
        with self._changed:
            if not self._changed.wait_for(lambda: self._current is not None, timeout_s):
                raise NoCardError(f"no card was read within {timeout_s:g} s")
            assert self._current is not None
            return self._current

    def _read(self) -> SocialSecurityCard:
        """Connect, read EF05 + EF06, disconnect. Transient faults are tried again once."""
        for attempt in range(1, self._read_attempts + 1):
            transmit = self.transport.connect()
            try:
                card = sscard_apdu.read_card(transmit)
            except (sscard_apdu.CardStatusError, sscard_apdu.CardDataError):
                raise  # the card answered clearly: asking again gives the same answer
            except CardError as e:
                if attempt == self._read_attempts or isinstance(e, CardRemovedError):
                    raise
                log.info("sscard read failed (%s), trying again", e)
                continue
            finally:
                self.transport.disconnect()
            self.reads += 1
            return card
        raise AssertionError("unreachable")

    # --- the monitor thread ---------------------------------------------------------------

    def _run(self) -> None:
        opened = False
        while not self._stop.is_set():
            try:
                if self._reopen.is_set() and opened:
                    self._reopen.clear()
                    self.transport.close()
                    opened = False
                if not opened:
                    self.transport.open()
                    opened = True
                self._run_jobs()
                state = self.transport.wait_change(self._poll_s)
                if not self._stop.is_set():
                    self._apply(state)
            except Exception as e:  # noqa: BLE001 - the thread must outlive any failure
                if isinstance(e, PcscServiceError):
                    status = DeviceStatus.OFFLINE
                elif isinstance(e, DeviceError):
                    status = DeviceStatus.NO_DEVICE
                else:
                    log.exception("sscard monitor: unexpected failure")
                    status = DeviceStatus.HARDWARE_ERROR
                self._fail(status, e)
                self.transport.close()
                opened = False
                self._fail_jobs(e)
                self._stop.wait(self._retry_s)
        self._fail_jobs(DeviceError("the card reader stopped"))
        self._set_status(DeviceStatus.OFFLINE, self._last_error)

    def _fail_jobs(self, error: Exception) -> None:
        while True:
            try:
                _work, done = self._jobs.get_nowait()
            except queue.Empty:
                return
            if done.set_running_or_notify_cancel():
                done.set_exception(error if isinstance(error, DeviceError) else DeviceError(str(error)))

    def _apply(self, state: ReaderState) -> None:
        if state.reader is None:
            self._card_left()
            self._set_status(DeviceStatus.NO_DEVICE, self.transport.missing_reader_reason())
            return
        if not state.present:
            self._card_left()
            self._set_status(DeviceStatus.ONLINE, "")
            return
        if self._seen == state.counter:
            self._set_status(DeviceStatus.ONLINE, "")
            return
        if self._seen is not None:  # a different card than the one we knew: the old one left
            self._card_left()
        self._seen = state.counter
        self._set_status(DeviceStatus.BUSY, "")
        try:
            card = self._read()
        except PcscServiceError:
            raise
        except CardError as e:
            self.last_read_error = e
            self._last_error = str(e)
            self._emit(EventKind.ERROR, f"card read failed: {e}")
            self._set_status(DeviceStatus.ONLINE, str(e))
            return
        self.last_read_error = None
        with self._changed:
            self._current = card
            self._changed.notify_all()
        self._set_status(DeviceStatus.ONLINE, "")
        self._emit(EventKind.CARD_PLACED, card)

    def _card_left(self) -> None:
        if self._seen is None and self._current is None:
            return
        self._seen = None
        with self._changed:
            self._current = None
        self._emit(EventKind.CARD_REMOVED, None)

    def _fail(self, status: DeviceStatus, err: Exception) -> None:
        self._card_left()
        text = str(err) or type(err).__name__
        if text != self._last_error or status != self._status:
            log.warning("sscard: %s", text)
        self._set_status(status, text)

    def _set_status(self, status: DeviceStatus, error: str) -> None:
        self._last_error = error
        if status != self._status:
            self._status = status
            self._emit(EventKind.STATUS, status)

    def _emit(self, kind: EventKind, payload: object) -> None:
        if self._sink is None:
            return
        try:
            self._sink(DeviceEvent(self.name, kind, payload))
        except Exception:  # noqa: BLE001 - a broken listener must not stop the reader
            log.exception("sscard: event sink failed")



def build(cfg: PcscSsCard | SimulatedDevice | NoDevice) -> tuple[SocialSecurityCardReader, None]:
    """The reader for a ``[devices.sscard]`` section (``driver = "pcsc"``). A simulated reader
    is built by the composition root from ``kiosk.sim``."""
    if isinstance(cfg, PcscSsCard):
        from kiosk.hardware.sscard_pcsc import PcscTransport

        return SocialSecurityCardReader(PcscTransport(cfg.reader)), None
    raise ConfigError(f"devices.sscard: driver {cfg.driver!r} builds no reader here")
