"""The HTTP adapter the backend client mounts: safe retries and a deadline on the answer's head.

requests' read timeout bounds each ``recv``, not the whole answer: a proxy that trickles the
status line and headers a byte at a time can hold a kiosk thread for ever. The connections
made here cut their own socket when the head has not arrived within the deadline (the body is
bounded separately by the client's read loop).
"""

from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.response import HTTPResponse
from urllib3.util.retry import Retry


class _Watchdog:
    """One thread that runs callbacks at their deadlines (a Timer thread per request costs
    about 0.4 ms, a third of a loopback round trip). Started on first use, never at import."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._cancelled: set[int] = set()
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, delay_s: float, callback: Callable[[], None]) -> int:
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="http-head-deadline", daemon=True
                )
                self._thread.start()
            ident = next(self._ids)
            heapq.heappush(self._heap, (time.monotonic() + delay_s, ident, callback))
            self._cond.notify()
            return ident

    def disarm(self, ident: int) -> None:
        with self._cond:
            self._cancelled.add(ident)

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][1] in self._cancelled:
                    self._cancelled.discard(heapq.heappop(self._heap)[1])
                if not self._heap:
                    self._cond.wait()
                    continue
                due, ident, callback = self._heap[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
            try:
                callback()
            except Exception:  # a failing cut must not stop the other deadlines
                pass


_WATCHDOG = _Watchdog()


class _HeadDeadline:
    """Mixed into a urllib3 connection: ``getresponse`` must finish within the deadline."""

    sock: socket.socket | None
    head_deadline_s: float | None = None  # set on the per-adapter subclass
    _armed: int | None = None

    def _cut(self, ident: int) -> None:
        # under the connection's lock, and only for the request that armed it: a cut that
        # fires late must never hit the next request on this (pooled) connection
        with self._deadline_lock:
            if self._armed != ident or self.sock is None:
                return
            try:
                self.sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked recv; close() would not
            except OSError:
                pass

    def getresponse(self) -> HTTPResponse:
        if not self.head_deadline_s:
            return super().getresponse()  # type: ignore[misc]
        if not hasattr(self, "_deadline_lock"):
            self._deadline_lock = threading.Lock()
        with self._deadline_lock:
            ident = self._armed = _WATCHDOG.arm(self.head_deadline_s, lambda: self._cut(ident))
        try:
            return super().getresponse()  # type: ignore[misc]
        finally:
            with self._deadline_lock:
                self._armed = None
            _WATCHDOG.disarm(ident)


class DeadlineAdapter(HTTPAdapter):
    """An HTTPAdapter whose connections carry the head deadline."""

    def __init__(self, *, head_deadline_s: float, **kwargs: Any) -> None:
        self.head_deadline_s = head_deadline_s
        super().__init__(**kwargs)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        extra = {"head_deadline_s": self.head_deadline_s}
        # classes per adapter, so two clients with different deadlines never share one
        conn = type("DeadlineConnection", (_HeadDeadline, HTTPConnection), extra)
        tls_conn = type("DeadlineTlsConnection", (_HeadDeadline, HTTPSConnection), extra)
        pool = type("DeadlinePool", (HTTPConnectionPool,), {"ConnectionCls": conn})
        tls_pool = type("DeadlineTlsPool", (HTTPSConnectionPool,), {"ConnectionCls": tls_conn})
        self.poolmanager.pool_classes_by_scheme = {"http": pool, "https": tls_pool}


def safe_retry() -> Retry:
    """Retries that can never apply a request twice.

    Connection failures are retried for every method: nothing was sent. Read failures and
    502/503/504 only for GET (the unsigned public reads): a POST that may have reached the
    backend is resent by the client itself, re-signed with a fresh nonce and the same
    idempotency key, never by urllib3 with the old nonce.
    """
    return Retry(
        total=3,
        connect=2,
        read=1,
        status=2,
        other=0,
        allowed_methods=frozenset({"GET"}),
        status_forcelist=(502, 503, 504),
        backoff_factor=0.2,
        raise_on_status=False,
        respect_retry_after_header=False,  # a backend must not park a kiosk for minutes
    )


def adapter(head_deadline_s: float) -> HTTPAdapter:
    return DeadlineAdapter(
        head_deadline_s=head_deadline_s,
        max_retries=safe_retry(),
        pool_connections=2,
        pool_maxsize=4,
    )
