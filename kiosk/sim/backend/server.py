"""The reference backend: a terminal gateway with the simulated platform behind it, on loopback.

It is what the demo and the tests talk to, so the terminal's real client code path always
runs, through the real gateway (``kiosk.gateway``: FastAPI on uvicorn, signatures, nonces and
idempotency keys in its database). The server can be told to misbehave (``faults``);
``/sim/...`` endpoints let a test, or a reviewer with curl, see what arrived and pay orders;
they need no signature and answer only loopback clients.

No terminal is accepted unless it is given with its secret (``terminals``), and the mapping
is live: ``backend.terminals[id] = secret`` provisions or rotates a secret in the database.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

from kiosk.gateway.app import Gateway
from kiosk.gateway.server import Limits, Server
from kiosk.gateway.store import Store, sqlite_url
from kiosk.sim.backend.adapter import SimulatedPlatform
from kiosk.sim.backend.controls import SimControls
from kiosk.sim.backend.faults import FaultLayer, Faults


class TerminalSecrets(MutableMapping[str, bytes]):
    """The gateway's provisioned terminals as a dict: reads and writes go to its database."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __getitem__(self, terminal: str) -> bytes:
        secret = self.store.secret_for(terminal)
        if secret is None:
            raise KeyError(terminal)
        return secret

    def __setitem__(self, terminal: str, secret: bytes) -> None:
        self.store.provision(terminal, secret)

    def __delitem__(self, terminal: str) -> None:
        self.store.revoke(terminal)

    def __iter__(self) -> Iterator[str]:
        return iter(self.store.terminal_ids())

    def __len__(self) -> int:
        return len(self.store.terminal_ids())


class ReferenceBackend(SimulatedPlatform):
    """In-process control of the reference backend: start, stop, faults, what it received."""

    def __init__(
        self,
        data_dir: Path | None = None,
        terminals: dict[str, bytes] | None = None,
        *,
        today: dt.date | None = None,
        database_url: str | None = None,
        offline_after_s: float = 180.0,
    ) -> None:
        self._tmp: str | None = None
        if data_dir is None:
            self._tmp = tempfile.mkdtemp(prefix="kiosk-refbackend-")
            data_dir = Path(self._tmp)
        super().__init__(data_dir, today=today)
        self.gateway_store = Store(database_url or sqlite_url(data_dir / "gateway.db"))
        self.store.received_source = self.gateway_store
        self.terminals = TerminalSecrets(self.gateway_store)
        for terminal, secret in (terminals or {}).items():
            self.terminals[terminal] = secret
        self.faults = Faults()
        self.gateway = Gateway(self.gateway_store, self, offline_after_s=offline_after_s)
        self.asgi = SimControls(FaultLayer(self.gateway.asgi, self.faults, self.stopping), self)
        self.url = ""
        self._server: Server | None = None

    @property
    def clock_offset_s(self) -> float:
        """Added to the gateway's clock: simulates a terminal whose clock is wrong."""
        return self.gateway.clock_offset_s

    @clock_offset_s.setter
    def clock_offset_s(self, value: float) -> None:
        self.gateway.clock_offset_s = value

    def start(self, host: str = "127.0.0.1", port: int = 0, *, tls_cert: Path | None = None,
              tls_key: Path | None = None, limits: Limits | None = None) -> str:
        """Serve on a thread of its own; returns the base URL (HTTPS with ``tls_cert``/``tls_key``)."""
        self.stopping.clear()
        self._server = Server(self.asgi, host, port, tls_cert=tls_cert, tls_key=tls_key,
                              limits=limits or Limits(threads=16))
        self.url = self.public_url = self.gateway.public_url = self._server.url
        self._server.start()
        return self.url

    def stop(self) -> None:
        self.stopping.set()
        if self._server is not None:
            self._server.stop()
            self._server = None

    def close(self) -> None:
        """Stop serving and release the databases (and the temporary data dir, if any)."""
        self.stop()
        self.store.close()
        self.gateway_store.close()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> ReferenceBackend:
        if not self.url:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- what tests ask ----------------------------------------------------------------------

    def received(self, kind: str | None = None) -> list[dict[str, Any]]:
        return self.gateway_store.received(kind)

    def secret_for(self, terminal: str) -> bytes | None:
        return self.gateway_store.secret_for(terminal)
