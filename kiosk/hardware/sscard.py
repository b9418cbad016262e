"""The social-security-card reader (社会保障卡): a monitor thread, card events, two transports.

``SocialSecurityCardReader`` is the ``CardReader`` the hub sees (name ``"sscard"``). Its
thread waits for reader changes, reads a card as soon as it is present (also one already on
the reader at start) and emits CARD_PLACED with a ``SocialSecurityCard``, CARD_REMOVED, ERROR
and STATUS events. It never dies: when pcscd goes away or the reader is unplugged it reports
OFFLINE / NO_DEVICE, throws the PC/SC context away and builds a new one until it works.

Transports (the seam between the reader logic and a card):
- ``PcscTransport``: pyscard's low-level API against pcscd (imported lazily);
- ``DirectTransport``: APDUs straight to an in-process virtual card (``sscard_card``), so demo
  mode needs no pcscd. It doubles as the emulator: ``insert(key)`` / ``remove()`` / ``stop()``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import NamedTuple, Protocol

from kiosk.config import NoDevice, PcscSsCard, SimulatedDevice
from kiosk.errors import (
    CardError,
    CardRemovedError,
    ConfigError,
    DeviceError,
    DeviceNotFoundError,
    NoCardError,
    ProtocolError,
)
from kiosk.hardware import sscard_apdu
from kiosk.hardware.base import DeviceEvent, DeviceStatus, EventKind, EventSink
from kiosk.hardware.sscard_apdu import Transmit
from kiosk.identity import SocialSecurityCard
from kiosk.sim.sscard_card import VirtualSsCard, card_for

__all__ = [
    "CardTransport",
    "DirectTransport",
    "PcscServiceError",
    "PcscTransport",
    "ReaderState",
    "SocialSecurityCardReader",
    "build",
]

log = logging.getLogger(__name__)


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


# --- PC/SC through pcscd -----------------------------------------------------------------------


class PcscServiceError(DeviceNotFoundError):
    """pcscd is not running or went away; the context must be built again."""

    message_zh = "读卡服务未运行，请联系工作人员"
    message_en = "The card service is not running, please ask staff for help"


# pcsc-lite return codes, as unsigned 32-bit values
_NO_SERVICE, _SERVICE_STOPPED, _INVALID_HANDLE = 0x8010001D, 0x8010001E, 0x80100003
_COMM_ERROR = 0x80100013  # the socket to pcscd broke: pcscd died under us
_NO_READERS, _UNKNOWN_READER, _READER_UNAVAILABLE = 0x8010002E, 0x80100009, 0x80100017
_TIMEOUT, _CANCELLED = 0x8010000A, 0x80100002
_NO_SMARTCARD, _REMOVED_CARD = 0x8010000C, 0x80100069
_UNRESPONSIVE, _UNPOWERED = 0x80100066, 0x80100067
_SERVICE_GONE = {_NO_SERVICE, _SERVICE_STOPPED, _INVALID_HANDLE, _COMM_ERROR}
_READER_GONE = {_UNKNOWN_READER, _READER_UNAVAILABLE, _NO_READERS}
_PNP = "\\\\?PnP?\\Notification"  # pcsc-lite's pseudo reader: wakes on readers added/removed
_STATE_CHANGED, _STATE_EMPTY, _STATE_PRESENT = 0x0002, 0x0010, 0x0020
#: how long a failed APDU waits for pcscd to notice that the card left (it polls ~every 0.4 s)
_GONE_WAIT_S = 1.5


def _rc(rv: int) -> int:
    return rv & 0xFFFFFFFF


def _describe(rv: int) -> str:
    from smartcard.scard import SCardGetErrorMessage

    return f"0x{_rc(rv):08X} ({SCardGetErrorMessage(rv).strip().rstrip('.')})"


class PcscTransport:
    """pyscard's low-level API: one context, one reader (first one, or first whose name
    contains ``reader_filter``), SCardGetStatusChange for changes."""

    def __init__(self, reader_filter: str = "") -> None:
        self.reader_filter = reader_filter
        self._ctx: int | None = None
        self._reader: str | None = None
        self._state = 0  # last event state, fed back to SCardGetStatusChange
        self._pnp_state = 0
        self._card: int | None = None
        self._readers_seen: list[str] = []
        self.reader_name = ""  # the reader last used, kept after close() for reports

    @staticmethod
    def is_usable() -> bool:
        """pyscard importable (pcscd itself may still be down)."""
        try:
            import smartcard.scard  # noqa: F401
        except ImportError:
            return False
        return True

    def open(self) -> None:
        try:
            from smartcard import scard
        except ImportError as e:
            raise DeviceNotFoundError(f"pyscard is not installed: {e}") from e
        rv, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if rv != scard.SCARD_S_SUCCESS:
            self._raise_service(rv, "SCardEstablishContext")
        self._ctx, self._reader, self._state, self._pnp_state = ctx, None, 0, 0

    def close(self) -> None:
        self.disconnect()
        ctx, self._ctx, self._reader = self._ctx, None, None
        if ctx is not None:  # only then was pyscard imported at all
            from smartcard import scard

            with contextlib.suppress(Exception):
                scard.SCardReleaseContext(ctx)

    def cancel(self) -> None:
        ctx = self._ctx
        if ctx is not None:
            from smartcard import scard

            with contextlib.suppress(Exception):
                scard.SCardCancel(ctx)

    def missing_reader_reason(self) -> str:
        if self.reader_filter:
            return f"no PC/SC reader matching {self.reader_filter!r} (readers: {self._readers_seen or 'none'})"
        return "no PC/SC reader connected"

    def wait_change(self, timeout_s: float) -> ReaderState:
        from smartcard import scard

        ctx = self._require_ctx()
        if self._reader is None:
            self._reader = self._pick_reader()
            self._state = 0
            if self._reader is None:
                self._wait_pnp(timeout_s)
                self._reader = self._pick_reader()
                if self._reader is None:
                    return ReaderState(None, False)
        wanted = [(self._reader, self._state), (_PNP, self._pnp_state)]
        rv, states = scard.SCardGetStatusChange(ctx, int(timeout_s * 1000), wanted)
        rc = _rc(rv)
        if rc in _SERVICE_GONE:
            self._raise_service(rv, "SCardGetStatusChange")
        if rc in _READER_GONE:
            self._reader = None
            return ReaderState(None, False)
        if rc not in (0, _TIMEOUT, _CANCELLED):
            raise DeviceError(f"SCardGetStatusChange failed: {_describe(rv)}")
        if rc == 0:
            for name, event, _atr in states:
                if name == _PNP:
                    self._pnp_state = event & ~_STATE_CHANGED
                elif name == self._reader:
                    self._state = event & ~_STATE_CHANGED
        if self._state & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_UNAVAILABLE):
            self._reader = None  # unplugged: look for it again next time
            return ReaderState(None, False)
        return ReaderState(self._reader, bool(self._state & _STATE_PRESENT), self._state >> 16)

    def connect(self) -> Transmit:
        from smartcard import scard

        ctx = self._require_ctx()
        if self._reader is None:
            raise DeviceNotFoundError(self.missing_reader_reason())
        self.disconnect()
        rv, card, protocol = scard.SCardConnect(
            ctx,
            self._reader,
            scard.SCARD_SHARE_SHARED,
            scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
        )
        rc = _rc(rv)
        if rc in _SERVICE_GONE:
            self._raise_service(rv, "SCardConnect")
        if rc in (_NO_SMARTCARD, _REMOVED_CARD):
            raise NoCardError(f"no card in the reader: {_describe(rv)}")
        if rc in (_UNRESPONSIVE, _UNPOWERED):
            raise CardError(f"the card does not answer (no ATR): {_describe(rv)}", retryable=True)
        if rc != 0:
            raise CardError(f"SCardConnect failed: {_describe(rv)}")
        self._card = card

        def transmit(apdu: list[int]) -> tuple[list[int], int, int]:
            rv, resp = scard.SCardTransmit(card, protocol, list(apdu))
            if rv != scard.SCARD_S_SUCCESS:
                self._raise_transmit(rv)
            if len(resp) < 2:
                # a card pulled mid-APDU can leave an empty answer before pcscd reports it gone
                if self._card_left_within(_GONE_WAIT_S):
                    raise CardRemovedError(f"the card was removed during the read (answer of {len(resp)} bytes)")
                raise ProtocolError(f"card answer of {len(resp)} bytes has no status word")
            return list(resp[:-2]), resp[-2], resp[-1]

        return transmit

    def disconnect(self) -> None:
        card, self._card = self._card, None
        if card is not None:
            from smartcard import scard

            with contextlib.suppress(Exception):
                scard.SCardDisconnect(card, scard.SCARD_LEAVE_CARD)

    # --- helpers ---------------------------------------------------------------------------

    def _require_ctx(self) -> int:
        if self._ctx is None:
            raise PcscServiceError("PC/SC context is not open")
        return self._ctx

    def _raise_service(self, rv: int, call: str) -> None:
        if _rc(rv) in _SERVICE_GONE:
            raise PcscServiceError(
                f"PC/SC service (pcscd) is not running: {call} returned {_describe(rv)}"
            )
        raise DeviceError(f"{call} failed: {_describe(rv)}")

    def _raise_transmit(self, rv: int) -> None:
        rc = _rc(rv)
        if rc in _SERVICE_GONE:
            self._raise_service(rv, "SCardTransmit")
        if rc == _REMOVED_CARD or self._card_left_within(_GONE_WAIT_S):
            raise CardRemovedError(f"the card was removed during the read: {_describe(rv)}")
        raise CardError(f"SCardTransmit failed: {_describe(rv)}", retryable=True)

    def _card_left_within(self, timeout_s: float) -> bool:
        """After a failed APDU: did the card leave? pcscd sees it at its next presence poll."""
        from smartcard import scard

        deadline = time.monotonic() + timeout_s
        state = self._state
        while self._ctx is not None and self._reader is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            rv, states = scard.SCardGetStatusChange(
                self._ctx, int(remaining * 1000), [(self._reader, state)]
            )
            if _rc(rv) != 0:
                return _rc(rv) in _READER_GONE
            state = states[0][1] & ~_STATE_CHANGED
            if state & _STATE_EMPTY or not state & _STATE_PRESENT:
                return True
        return False

    def _pick_reader(self) -> str | None:
        from smartcard import scard

        rv, readers = scard.SCardListReaders(self._require_ctx(), [])
        rc = _rc(rv)
        if rc in _SERVICE_GONE:
            self._raise_service(rv, "SCardListReaders")
        self._readers_seen = list(readers) if rc == 0 else []
        matching = [r for r in self._readers_seen if self.reader_filter.lower() in r.lower()]
        if matching:
            self.reader_name = matching[0]
        return matching[0] if matching else None

    def _wait_pnp(self, timeout_s: float) -> None:
        from smartcard import scard

        rv, states = scard.SCardGetStatusChange(
            self._require_ctx(), int(timeout_s * 1000), [(_PNP, self._pnp_state)]
        )
        if _rc(rv) in _SERVICE_GONE:
            self._raise_service(rv, "SCardGetStatusChange")
        if _rc(rv) == 0 and states:
            self._pnp_state = states[0][1] & ~_STATE_CHANGED


# --- in-process virtual card (demo mode, no pcscd) -------------------------------------------


class DirectTransport:
    """A card slot in this process holding a ``VirtualSsCard``; also the emulator's controls."""

    reader_name = "Kiosk Simulated SSCard Reader"

    def __init__(self, card_factory: Callable[[str], VirtualSsCard] = card_for) -> None:
        self._factory = card_factory
        self._cond = threading.Condition()
        self._card: VirtualSsCard | None = None
        self._plugged = True
        self._counter = 0
        self._seen_counter: int | None = None  # the counter the last wait_change returned
        self._cancelled = False

    # --- emulator controls -----------------------------------------------------------------

    def insert(self, key: str) -> VirtualSsCard:
        """Place a fresh card for a demo resident key (or ``error_card`` / ``pulled_card``)."""
        card = self._factory(key)
        with self._cond:
            if self._card is not None:
                self._counter += 1  # the old card leaves first
            self._card = card
            self._counter += 1
            self._cond.notify_all()
        return card

    def remove(self) -> None:
        with self._cond:
            if self._card is not None:
                self._card = None
                self._counter += 1
                self._cond.notify_all()

    def unplug(self) -> None:
        """The reader's cable is pulled: no reader until ``plug()``."""
        with self._cond:
            self._plugged = False
            self._cond.notify_all()

    def plug(self) -> None:
        with self._cond:
            self._plugged = True
            self._cond.notify_all()

    def stop(self) -> None:
        self.remove()

    @property
    def card(self) -> VirtualSsCard | None:
        return self._card

    # --- CardTransport ---------------------------------------------------------------------

    def open(self) -> None:
        with self._cond:
            self._seen_counter = None

    def close(self) -> None:
        pass

    def cancel(self) -> None:
        with self._cond:
            self._cancelled = True
            self._cond.notify_all()

    def missing_reader_reason(self) -> str:
        return "the simulated reader is unplugged"

    def wait_change(self, timeout_s: float) -> ReaderState:
        with self._cond:
            self._cond.wait_for(
                lambda: self._cancelled or self._snapshot() != self._seen_counter, timeout_s
            )
            self._cancelled = False
            self._seen_counter = self._snapshot()
            if not self._plugged:
                return ReaderState(None, False)
            return ReaderState(self.reader_name, self._card is not None, self._counter)

    def connect(self) -> Transmit:
        with self._cond:
            card = self._card
            if card is None or not self._plugged:
                raise NoCardError("no card in the simulated reader")
            card.reset()

        def transmit(apdu: list[int]) -> tuple[list[int], int, int]:
            with self._cond:
                if self._card is not card or not self._plugged:
                    raise CardRemovedError("the card was removed during the read")
            resp = card.handle(bytes(apdu))
            if card.pulled:  # the card answered, then left the reader
                with self._cond:
                    if self._card is card:
                        self._card = None
                        self._counter += 1
                        self._cond.notify_all()
            return list(resp[:-2]), resp[-2], resp[-1]

        return transmit

    def disconnect(self) -> None:
        pass

    def _snapshot(self) -> int:
        # plugging in or out counts as a change as well as cards coming and going
        return self._counter * 2 + (0 if self._plugged else 1)


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
                self._stop.wait(self._retry_s)
        self._set_status(DeviceStatus.OFFLINE, self._last_error)

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


def build(
    cfg: PcscSsCard | SimulatedDevice | NoDevice,
    card_factory: Callable | None = None,
) -> tuple[SocialSecurityCardReader, DirectTransport | None]:
    """The reader for a ``[devices.sscard]`` section, and the emulator (simulated only)."""
    if isinstance(cfg, PcscSsCard):
        return SocialSecurityCardReader(PcscTransport(cfg.reader)), None
    if isinstance(cfg, SimulatedDevice):
        direct = DirectTransport(card_factory) if card_factory else DirectTransport()
        return SocialSecurityCardReader(direct), direct
    raise ConfigError(f"devices.sscard: driver {cfg.driver!r} builds no reader")
