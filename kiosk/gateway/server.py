"""Serving the gateway: uvicorn with bounded connections and request deadlines.

What the old threaded server lacked, and this gives:

* a listen backlog of ``BACKLOG`` (not 5): a burst of terminals reconnecting after a power cut
  queues in the kernel instead of being reset;
* one event loop, not a thread per connection: a stalled client costs a socket, not a thread,
  and at most ``max_connections`` are kept (the next is closed at once);
* a deadline for the request head and one for the body: a client that trickles bytes
  (slowloris) is cut off after ``head_timeout_s`` / ``body_timeout_s`` however slowly it sends;
* handlers that block (the database, the platform) run on a bounded pool of ``threads``
  worker threads with a database connection each.

``check_bind`` refuses to serve plain HTTP on anything but loopback unless told to: outside
the machine, terminals' requests and the console's passwords travel over TLS.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import resource
import socket
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from kiosk.errors import ConfigError

log = logging.getLogger(__name__)

BACKLOG = 2048


@dataclass(frozen=True)
class Limits:
    max_connections: int = 4096
    head_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    keep_alive_s: float = 75.0  # above a terminal's heartbeat interval: one connection each
    threads: int = 32


class _BoundedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a connection cap and request deadlines."""

    limits = Limits()
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.limits.max_connections:
            self._refused = True
            transport.abort()
            return
        self._refused = False
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # the head and the body are two writes: with Nagle on, the body waits for the
            # client's delayed ACK of the head, 40 ms on every answer
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
        self._arm(self.limits.head_timeout_s)

    def connection_lost(self, exc: Exception | None) -> None:
        if getattr(self, "_refused", True) and self.transport is None:
            return
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:
            self._arm(self.limits.head_timeout_s)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._arm(self.limits.body_timeout_s)
        if self.scope is not None:  # the connection, for the simulated platform's faults
            self.scope.setdefault("extensions", {})["kiosk.transport"] = self.transport

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if self.transport is not None and not self.transport.is_closing():
            self.transport.abort()


def protocol_class(limits: Limits) -> type[HttpToolsProtocol]:
    return type("GatewayProtocol", (_BoundedProtocol,), {"limits": limits})


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, *, tls: bool, allow_insecure: bool) -> None:
    if is_loopback(host) or tls or allow_insecure:
        return
    raise ConfigError(
        f"refusing to serve plain HTTP on {host}: terminals' requests and console passwords would "
        "cross the network unencrypted. Give --tls-cert/--tls-key, put a TLS proxy in front on "
        "loopback, or pass --allow-insecure-bind if the network is otherwise protected"
    )


def raise_fd_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError:
        sock.close()
        raise
    sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock


class Server:
    """Serves an ASGI app with uvicorn, in this thread (``run``) or a thread of its own
    (``start``/``stop``, for tests and the in-process simulated platform)."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, *, limits: Limits = Limits(),
                 tls_cert: Path | None = None, tls_key: Path | None = None,
                 allow_insecure_bind: bool = False, sock: socket.socket | None = None) -> None:
        check_bind(host, tls=tls_cert is not None, allow_insecure=allow_insecure_bind)
        if (tls_cert is None) != (tls_key is None):
            raise ConfigError("--tls-cert and --tls-key go together")
        raise_fd_limit(limits.max_connections + 256)
        self.sock = sock or bind(host, port)
        bound_host, bound_port = self.sock.getsockname()[:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        self.url = f"{'https' if tls_cert else 'http'}://{shown}:{bound_port}"
        self.limits = limits

        @contextlib.asynccontextmanager
        async def lifespan(_app: Any) -> AsyncIterator[None]:
            anyio.to_thread.current_default_thread_limiter().total_tokens = limits.threads
            yield

        config = uvicorn.Config(
            _Lifespan(app, lifespan), http=protocol_class(limits), loop="asyncio", lifespan="on",
            backlog=BACKLOG, timeout_keep_alive=int(limits.keep_alive_s), timeout_graceful_shutdown=3,
            server_header=False, date_header=False, access_log=False, log_level="warning",
            ssl_certfile=str(tls_cert) if tls_cert else None, ssl_keyfile=str(tls_key) if tls_key else None,
            proxy_headers=False,
        )
        self.uvicorn = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        """Serve until SIGTERM/SIGINT (in the main thread), then return: exit status 0.

        uvicorn raises the signal again once it has stopped, to whatever handler was there
        before it; a quiet one here makes a requested stop a normal end, not a death by signal."""
        import signal

        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: None)
        self.uvicorn.run(sockets=[self.sock])

    def start(self, timeout_s: float = 15.0) -> str:
        self._thread = threading.Thread(target=self.uvicorn.run, kwargs={"sockets": [self.sock]},
                                        name="gateway-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.uvicorn.started:  # uvicorn has no event to wait on; startup takes ms
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the gateway did not start")
            time.sleep(0.005)
        return self.url

    def stop(self, timeout_s: float = 10.0) -> None:
        self.uvicorn.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                self.uvicorn.force_exit = True
                self._thread.join(timeout_s)
            self._thread = None
        with contextlib.suppress(OSError):
            self.sock.close()


class _Lifespan:
    """The app with a lifespan of our own (the thread pool's size), whatever the app is."""

    def __init__(self, app: Any, lifespan: Any) -> None:
        self.app, self.lifespan = app, lifespan

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        message = await receive()
        assert message["type"] == "lifespan.startup"
        async with self.lifespan(None):
            await send({"type": "lifespan.startup.complete"})
            message = await receive()
            await send({"type": "lifespan.shutdown.complete"})
