"""The card program behind vsmartcard's virtual reader (vpcd): puts a virtual 社保卡 into pcscd.

vpcd (the pcscd driver from Debian's ``vsmartcard-vpcd``) listens on a TCP port; the card
is the client. A connected client is a card on the reader, a closed connection is a card
taken away. Every message is a 2-byte big-endian length and a payload: a 1-byte payload is a
control (0 power off, 1 power on, 2 reset, 4 send the ATR), anything longer is an APDU that is
answered with data + SW1 SW2.

``VpcdCardSlot`` runs that client in a thread with ``insert(key)`` / ``remove()`` / ``stop()``,
so tests and the demo can place and pull cards. While a card is inserted the slot reconnects
whenever the connection drops (pcscd restarted), as a card would stay on a real reader.

    python -m kiosk.sim.vpcd_card --port 35963 --card zhang_xiuying
"""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable

from kiosk.sim.sscard_card import PinState, VirtualSsCard, card_for, card_keys

log = logging.getLogger(__name__)

CTRL_OFF, CTRL_ON, CTRL_RESET, CTRL_ATR = 0, 1, 2, 4
#: vpcd's own default port (its reader.conf example, 0x8C7B)
DEFAULT_PORT = 0x8C7B


def _quickack(sock: socket.socket) -> None:
    # Linux turns quick-ack off again after each delayed ACK; without it every APDU waits ~40 ms
    quickack = getattr(socket, "TCP_QUICKACK", None)
    if quickack is not None:
        sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        _quickack(sock)
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def _send(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(struct.pack(">H", len(payload)) + payload)


def serve_card(sock: socket.socket, card: VirtualSsCard) -> None:
    """Answer vpcd on ``sock`` until it closes the connection or the card is pulled."""
    while not card.pulled:
        header = _recv_exact(sock, 2)
        if header is None:
            return
        (length,) = struct.unpack(">H", header)
        payload = _recv_exact(sock, length) if length else b""
        if payload is None:
            return
        if len(payload) == 1:
            ctrl = payload[0]
            if ctrl in (CTRL_ON, CTRL_RESET, CTRL_OFF):
                card.reset()
            elif ctrl == CTRL_ATR:
                _send(sock, card.atr)
            continue
        _send(sock, card.handle(payload))


class VpcdCardSlot:
    """A card slot on vpcd's port: ``insert(key)`` places a card, ``remove()`` takes it away."""

    def __init__(
        self,
        port: int = DEFAULT_PORT,
        host: str = "127.0.0.1",
        card_factory: Callable[[str], VirtualSsCard] = card_for,
        retry_s: float = 0.05,
        swap_gap_s: float = 0.8,
    ) -> None:
        self.host, self.port = host, port
        self._factory = card_factory
        self._retry_s = retry_s
        # pcscd asks vpcd about the card every ~0.4 s; a new card connected sooner than that
        # after the old one left looks to pcscd like the same card, never removed
        self._swap_gap_s = swap_gap_s
        self._left_at = -1e9
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self._card: VirtualSsCard | None = None
        self._sock: socket.socket | None = None
        self._connected = threading.Event()
        self._thread: threading.Thread | None = None
        self.connections = 0  # how many times vpcd took the card; tests read it
        self._pins: dict[str, PinState] = {}  # a card's PIN outlives its time in the slot

    # --- controls --------------------------------------------------------------------------

    def start(self) -> VpcdCardSlot:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="vpcd-card", daemon=True)
            self._thread.start()
        return self

    def insert(self, key: str) -> VirtualSsCard:
        """Place a fresh card for ``key`` (removing any card there first); returns the card."""
        card = self._factory(key)
        card.pin_state = self._pins.setdefault(key, card.pin_state)
        self.remove()
        with self._lock:
            self._card = card
        self.start()
        self._wake.set()
        return card

    def remove(self) -> None:
        """Take the card away: the connection to vpcd is closed, which vpcd reports as removal."""
        with self._lock:
            self._card = None
            sock = self._sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._connected.clear()

    def stop(self, timeout_s: float = 2.0) -> None:
        self._stopping = True
        self.remove()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    @property
    def card(self) -> VirtualSsCard | None:
        return self._card

    def wait_connected(self, timeout_s: float) -> bool:
        """True once vpcd has accepted the current card's connection."""
        return self._connected.wait(timeout_s)

    # --- the thread ------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping:
            card = self._card
            if card is None or card.pulled:
                self._wake.wait(0.5)
                self._wake.clear()
                continue
            gap = self._left_at + self._swap_gap_s - time.monotonic()
            if gap > 0:
                self._wake.wait(gap)
                self._wake.clear()
                continue
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1.0)
            except OSError:
                self._wake.wait(self._retry_s)  # vpcd not listening yet (pcscd starting)
                continue
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                if self._card is not card:  # removed while connecting
                    sock.close()
                    continue
                self._sock = sock
            self.connections += 1
            self._connected.set()
            try:
                serve_card(sock, card)
            except OSError as e:
                log.debug("vpcd connection ended: %s", e)
            finally:
                with self._lock:
                    self._sock = None
                    if card.pulled and self._card is card:
                        self._card = None  # a pulled card stays away until inserted again
                self._connected.clear()
                sock.close()
                self._left_at = time.monotonic()
            if not self._stopping and self._card is card:
                self._wake.wait(self._retry_s)  # vpcd went away: try again, like a card left in


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="put a virtual social-security card into vpcd")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="vpcd's TCP port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--card", default="zhang_xiuying", choices=card_keys())
    args = parser.parse_args(argv)
    slot = VpcdCardSlot(args.port, args.host)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    slot.insert(args.card)
    print(f"card {args.card} on vpcd {args.host}:{args.port}; Ctrl-C to remove", flush=True)
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    slot.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
