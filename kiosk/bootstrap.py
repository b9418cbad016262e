"""The composition root: config -> devices, backend client, outbox, journal, journey.

Nothing real is built at import time or in a default argument; everything is built here,
once, from the validated config. The app, the ``kiosk journey`` command, the soak run and
the tests all start the kiosk through ``bootstrap()``; tests and benches may hand it any of
the parts (a fake backend, in-memory stores, fake devices, a fixed clock) instead.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from kiosk.config import KioskConfig
from kiosk.hardware.base import EventSink
from kiosk.services.catalogue import Catalogue, load_catalogue
from kiosk.services.journey import Journey, Ports

if TYPE_CHECKING:
    from kiosk.services.ports import A4Printer, Backend, Devices
    from kiosk.services.ports import Journal as JournalPort
    from kiosk.services.ports import Outbox as OutboxPort

log = logging.getLogger(__name__)


@dataclass
class Kiosk:
    """The running terminal: the journey's ports (config, devices, backend, stores), the journey
    and the delivery worker. The parts are reached by name (``kiosk.hub``, ``kiosk.outbox``)."""

    ports: Ports
    journey: Journey
    #: the outbox's delivery worker; None when the outbox or the backend was given (fakes)
    delivery: Any
    _online_listeners: list[Callable[[bool], None]] = field(default_factory=list)
    #: the notice on the idle screen (Chinese, English), set by a remote command
    notice: tuple[str, str] = ("", "")
    _notice_listeners: list[Callable[[str, str], None]] = field(default_factory=list)
    #: carries out the fleet console's commands (``kiosk.admin.actions.RemoteCommands``)
    remote: Any = None
    _stopping: threading.Event = field(default_factory=threading.Event)
    _reconciler: threading.Thread | None = None
    _store_watch: threading.Thread | None = None

    #: how often payments left "paid_unconfirmed" are settled with the backend
    RECONCILE_EVERY_S = 120.0
    #: how often the store's disk is looked at (free space, a trial write)
    STORE_CHECK_S = 15.0
    #: an intent this old, of a session that is over, is settled as abandoned
    STALE_INTENT_S = 600.0

    @property
    def config(self) -> KioskConfig:
        return self.ports.config

    @property
    def catalogue(self) -> Catalogue:
        return self.ports.catalogue

    @property
    def hub(self) -> Any:
        return self.ports.devices

    @property
    def backend(self) -> Any:
        return self.ports.backend

    @property
    def outbox(self) -> Any:
        return self.ports.outbox

    @property
    def journal(self) -> Any:
        return self.ports.journal

    @property
    def secret(self) -> bytes:
        return self.ports.secret

    def start(self, sink: EventSink, on_online_change: Callable[[bool], None] | None = None) -> None:
        """Start devices, delivery and payment reconciliation. ``sink`` gets device events on
        worker threads."""
        if on_online_change is not None:
            self._online_listeners.append(on_online_change)
        self.hub.start(sink)
        if self.delivery is not None:
            self.delivery.start()
        self._reconciler = threading.Thread(target=self._reconcile_loop, name="reconcile", daemon=True)
        self._reconciler.start()
        self._store_watch = threading.Thread(target=self._watch_store, name="store-watch", daemon=True)
        self._store_watch.start()

    def _watch_store(self) -> None:
        while not self._stopping.wait(self.STORE_CHECK_S):
            self.check_store()

    def check_store(self) -> Any:
        """Look at the store now (free space, a trial write), write what the disk refused
        earlier once it takes writes again; returns the ``StoreState``. Blocking."""
        was = self.outbox.state()
        state = self.outbox.check_health()
        if state.usable and self.journal.deferred():
            self.journal.retry_deferred()
        if state.usable != was.usable:
            if state.usable:
                log.warning("store usable again: %s", state.summary())
            else:
                log.error("store not usable, items that need it are paused: %s", state.summary())
        return state

    def _reconcile_loop(self) -> None:
        """Settle what earlier sessions left open: at start the intents a crash cut short (and
        later those an ended session left), then the payments whose outcome was lost, asking
        the backend — at start and every few minutes, so no doubt waits for the next resident."""
        from kiosk.errors import KioskError
        from kiosk.services.payment_order import settle_unconfirmed

        first = True
        while not self._stopping.is_set():
            current = self.journey.session.transaction_no
            try:
                self.journal.settle_stale(keep=(current,) if current else (),
                                          older_than_s=None if first else self.STALE_INTENT_S)
                first = False
            except KioskError as e:
                log.info("open journal entries not settled yet: %s", e)
            try:
                settled = settle_unconfirmed(self.journal, self.backend)
                if settled:
                    log.info("settled %d payment(s) left unconfirmed", len(settled))
            except KioskError as e:
                log.info("payment reconciliation postponed: %s", e)
            self._stopping.wait(self.RECONCILE_EVERY_S)

    def heartbeat(self) -> dict:
        """What the terminal tells the backend every ``heartbeat_s``: devices, paper, backlog."""
        from kiosk import __version__
        from kiosk.admin.audit import scrub
        from kiosk.backend.payloads import heartbeat
        from kiosk.errors import StoreError

        snapshot = self.hub.snapshot()
        printer = snapshot.get("printer")
        try:
            depth = self.outbox.depth()
            age = self.outbox.oldest_age_s()
        except StoreError:
            depth, age = 0, None  # unknown: the "store" entry below says why
        devices = {name: snap.status.value for name, snap in snapshot.items()}
        devices["store"] = "online" if self.outbox.unavailable_reason() is None else "hardware_error"
        return heartbeat(
            software_version=__version__,
            devices=devices,
            paper=printer.paper.value if printer is not None and printer.paper is not None else "unknown",
            paper_near_end=self.remote.actions.paper().near_end if self.remote is not None else False,
            outbox_depth=depth,
            outbox_oldest_s=None if age is None else int(age),
            in_service=not self.journey.maintenance and self.journey.closed_reason() is None,
            last_error=scrub(getattr(self.delivery, "last_error", "") or "")[:500],
        )

    def set_notice(self, zh: str, en: str) -> None:
        """Show (or with two empty strings, clear) a notice on the idle screen. Listeners are
        called on the caller's thread."""
        self.notice = (zh, en)
        for listener in list(self._notice_listeners):
            listener(zh, en)

    def on_notice(self, listener: Callable[[str, str], None]) -> None:
        self._notice_listeners.append(listener)

    def _online_changed(self, online: bool) -> None:
        for listener in list(self._online_listeners):
            listener(online)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop reconciling, delivering and the devices. A part that does not stop within its
        share of ``timeout_s`` (a request the backend does not answer) is left: its thread is
        a daemon, and the outbox re-queues a row left in flight at the next start."""
        self._stopping.set()
        if self._reconciler is not None:
            self._reconciler.join(timeout=timeout_s / 2)
        for part in (self.delivery, self.hub):
            if part is None:
                continue
            try:
                part.stop(timeout_s / 2) if part is self.delivery else part.stop()
            except Exception:  # noqa: BLE001 - shutting down: log and go on with the rest
                log.exception("stopping %s failed", type(part).__name__)
        close = getattr(self.backend, "close", None)  # the HTTP client's connections; a fake has none
        if callable(close):
            close()
        if self._store_watch is not None:  # at most one look at the disk (a trial write) to wait for
            self._store_watch.join(timeout=5)


def escpos_profiles_cache(folder: Path) -> None:
    """Where python-escpos keeps its parsed printer profiles. At import it parses its profile
    file (YAML: ~250 ms of CPU holding the GIL, on the printer's thread beside the first frame)
    unless it finds the pickle it wrote before, which by default it looks for in a new temp
    folder of each process: every start paid the parse and left a folder behind. Kept in the
    data folder, the parse happens at the first start only. Call before escpos is imported."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:  # a read-only data folder: escpos parses at each start, as before
        log.warning("no cache folder for the printer profiles (%s): parsed at each start", e)
        return
    os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", str(folder))


def ensure_secret(config: KioskConfig) -> bytes:
    """In simulated set-ups create the terminal secret file on first start."""
    if config.backend.secret_file is not None:
        path = config.resolve(config.backend.secret_file)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32) + "\n")
            path.chmod(0o600)
    return config.terminal_secret()


def bootstrap(
    config: KioskConfig,
    *,
    catalogue_path: Path | None = None,
    catalogue: Catalogue | None = None,
    backend: Backend | None = None,
    outbox: OutboxPort | None = None,
    journal: JournalPort | None = None,
    devices: Devices | None = None,
    a4printer: A4Printer | None | Literal["configured"] = "configured",
    now: Callable[[], dt.datetime] | None = None,
    secret: bytes | None = None,
    certificate_copies: Path | None | Literal["configured"] = "configured",
) -> Kiosk:
    """The kiosk the config describes. Any part given here is used instead of the one the
    config names (tests and benches pass fakes or their own adapters); the rest is built.

    The journal lives in the outbox's database, so a caller brings both or neither. The delivery worker joins a real outbox to a real backend client:
    with either replaced it is not built (``Kiosk.delivery`` is None) and what the services
    queued stays in the given outbox.
    """
    from kiosk.backend.client import BackendClient
    from kiosk.backend.delivery import DeliveryWorker
    from kiosk.backend.uploads import senders
    from kiosk.hardware import a4printer as cups
    from kiosk.hardware.hub import DeviceHub
    from kiosk.store.applications import Applications
    from kiosk.store.counters import Counters
    from kiosk.store.journal import Journal
    from kiosk.store.outbox import Outbox

    if (outbox is None) != (journal is None):
        raise ValueError("the journal shares the outbox's database: give both or neither")
    data_dir = config.data_dir
    if outbox is None or devices is None:  # the store, and what simulated devices keep
        data_dir.mkdir(parents=True, exist_ok=True)
    escpos_profiles_cache(data_dir / "cache" / "escpos")
    secret = config.terminal_secret() if secret is None else secret
    catalogue = load_catalogue(catalogue_path) if catalogue is None else catalogue
    if backend is None:
        backend = BackendClient(
            config.backend.url,
            config.terminal.id,
            secret,
            ca_bundle=config.resolve(config.backend.ca_bundle) if config.backend.ca_bundle else None,
            connect_timeout=config.backend.connect_timeout_s,
            read_timeout=config.backend.read_timeout_s,
        )
    store: Outbox | None = None
    if outbox is None:
        store = outbox = Outbox(data_dir / "outbox.sqlite3", min_free_bytes=config.storage.min_free_mb * 1024 * 1024)
        if store.lost is not None:  # the kiosk starts all the same: guides, the admin screen
            log.error("outbox: %s; items that need the store are refused", store.lost)
    elif isinstance(outbox, Outbox):
        store = outbox
    if journal is None:
        assert store is not None  # built just above
        journal = Journal(store)  # same database: a journal row and its outbox row commit together
    # applications are sealed in a vault beside the store (none taken without a real store)
    applications = _applications(Applications, store, data_dir, secret) if store is not None else None
    if devices is None:
        roll = Counters(store).slot("printer_roll") if store is not None else None  # the paper roll's use
        devices = DeviceHub(config.devices, builders=_device_builders(config, roll))
    if a4printer == "configured":
        a4printer = cups.build(config.devices.a4printer)
    if certificate_copies == "configured":
        # reviewers' mode: the receipt printer is an emulator, so certificates are kept as files
        simulated = config.devices.printer.driver == "simulated" and isinstance(devices, DeviceHub)
        certificate_copies = data_dir / "certificates" if simulated else None
    ports = Ports(
        config=config,
        catalogue=catalogue,
        backend=backend,
        outbox=outbox,
        journal=journal,
        devices=devices,
        secret=secret,
        now=now or dt.datetime.now,
        a4printer=a4printer,
        certificate_copies=certificate_copies,
        applications=applications,
    )
    kiosk = Kiosk(ports=ports, journey=Journey(ports), delivery=None)
    if store is not None and isinstance(backend, BackendClient):
        from kiosk.admin.actions import AdminActions, RemoteCommands
        from kiosk.admin.audit import Audit

        kiosk.remote = RemoteCommands(AdminActions(kiosk, Audit(store, config.terminal.id, actor="fleet-console")))
        kiosk.delivery = DeliveryWorker(store, backend, on_online_change=kiosk._online_changed,
                                        heartbeat=kiosk.heartbeat, heartbeat_s=config.backend.heartbeat_s,
                                        on_command=kiosk.remote, senders=senders(applications, backend))
    return kiosk


def _applications(cls: Any, outbox: Any, data_dir: Path, secret: bytes) -> Any:
    """The sealed applications waiting for the backend; bundles nothing waits for are removed
    now (a crash between sealing and queueing, or between the answer and the deletion)."""
    from kiosk.errors import StoreError

    applications = cls(outbox, data_dir / "vault", secret)
    if outbox.lost is None:
        try:
            applications.sweep()
        except (StoreError, OSError) as e:
            log.error("vault: not swept: %s", e)
    return applications


def _device_builders(config: KioskConfig, roll_store: Any) -> dict[str, Any]:
    """What builds each device: the family's own ``build`` for real drivers (named, imported
    by the hub when it builds), ``kiosk.sim``'s for ``driver = "simulated"`` (the one place
    product start-up reaches the simulation). The printer gets its configured paper width and
    the store of its roll counter."""
    from kiosk.hardware.hub import DEFAULT_BUILDERS, resolve_builder

    builders: dict[str, Any] = dict(DEFAULT_BUILDERS)
    for name in DEFAULT_BUILDERS:
        if getattr(getattr(config.devices, name), "driver", "none") == "simulated":
            from kiosk.sim import devices as simulated

            builders[name] = simulated.BUILDERS[name]
    base = builders["printer"]
    simulated_printer = config.devices.printer.driver == "simulated"

    def printer(cfg: Any) -> Any:
        extra = {"out_dir": config.data_dir / "receipts"} if simulated_printer else {}
        return resolve_builder(base)(cfg, width_chars=getattr(cfg, "columns", 32), roll_store=roll_store, **extra)

    builders["printer"] = printer
    return builders
