"""The HTTP adapter the backend client mounts: safe retries and a deadline on the answer's head.

requests' read timeout bounds each ``recv``, not the whole answer: a proxy that trickles the
status line and headers a byte at a time can hold a kiosk thread for ever. The connections
made here cut their own socket when the head has not arrived within the deadline (the body is
bounded separately by the client's read loop).
"""

from __future__ import annotations

import socket
import threading
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.response import HTTPResponse
from urllib3.util.retry import Retry


class _HeadDeadline:
    """Mixed into a urllib3 connection: ``getresponse`` must finish within the deadline."""

    sock: socket.socket | None
    head_deadline_s: float | None = None  # set on the per-adapter subclass

    def _cut(self) -> None:
        sock = self.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked recv; close() would not
            except OSError:
                pass

    def getresponse(self) -> HTTPResponse:
        if not self.head_deadline_s:
            return super().getresponse()  # type: ignore[misc]
        timer = threading.Timer(self.head_deadline_s, self._cut)
        timer.daemon = True
        timer.start()
        try:
            return super().getresponse()  # type: ignore[misc]
        finally:
            timer.cancel()


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
