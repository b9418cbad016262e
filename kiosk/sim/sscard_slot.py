"""An in-process social-security-card slot for simulated mode: no pcscd needed.

``DirectTransport`` is a ``CardTransport`` whose card is a ``VirtualSsCard`` in this process;
it doubles as the emulator's controls (``insert(key)`` / ``remove()`` / ``unplug()``), which the
simulator panel and the tours use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from kiosk.errors import CardRemovedError, NoCardError
from kiosk.hardware.sscard import ReaderState
from kiosk.hardware.sscard_apdu import Transmit
from kiosk.sim.sscard_card import PinState, VirtualSsCard, card_for

__all__ = ["DirectTransport"]



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
        self._pins: dict[str, PinState] = {}  # a card's PIN outlives its time in the slot

    # --- emulator controls -----------------------------------------------------------------

    def insert(self, key: str) -> VirtualSsCard:
        """Place a fresh card for a demo resident key (or ``error_card`` / ``pulled_card``)."""
        card = self._factory(key)
        card.pin_state = self._pins.setdefault(key, card.pin_state)
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
