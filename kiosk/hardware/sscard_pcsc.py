"""The social-security-card reader's PC/SC transport: pyscard's low-level API against pcscd.

``PcscTransport`` is the ``CardTransport`` of a real terminal. pyscard is imported lazily, so
the package imports on a machine without libpcsclite.
"""

from __future__ import annotations

import contextlib
import logging
import time

from kiosk.errors import (
    CardError,
    CardRemovedError,
    DeviceError,
    DeviceNotFoundError,
    NoCardError,
    ProtocolError,
)
from kiosk.hardware.sscard import PcscServiceError, ReaderState
from kiosk.hardware.sscard_apdu import Transmit

__all__ = ["PcscTransport"]

log = logging.getLogger(__name__)


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
