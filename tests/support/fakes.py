"""Hand-written in-memory fakes of the services' ports, which record what happened.

``fake_terminal()`` wires them through ``kiosk.bootstrap.bootstrap`` (the composition root the
real kiosk starts from) into a journey that runs without threads, files, sockets or ptys, so
a rule of the services is tested in milliseconds. Each fake fits its port in
``kiosk.services.ports`` (``make typecheck`` checks it) and keeps the promises the port's
docstring makes, as the real adapter does; the integration tests prove the adapters.

Every fake writes what it did to one shared ``log`` (``"journal.begin paying TXN"``,
``"backend.create_order"``, ``"printer.printed JOB"``), so a test can say what came before what:
an intent on disk before the order, an old order closed before a new one.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, overload

from kiosk.bootstrap import Kiosk, bootstrap
from kiosk.config import KioskConfig, load_config
from kiosk.errors import PaperOutError, PrinterError, StoreError, StoreFullError
from kiosk.hardware.base import (
    CardReader,
    Device,
    DeviceEvent,
    DeviceStatus,
    EventKind,
    EventSink,
    PaperStatus,
    RatingPad,
    ReceiptPrinter,
)
from kiosk.hardware.hub import DEVICE_NAMES_EN, DEVICE_NAMES_ZH
from kiosk.identity import CardType, Identity, SocialSecurityCard
from kiosk.receipt import PrintJob
from kiosk.services.catalogue import Catalogue, load_catalogue
from kiosk.services.journey import Journey
from kiosk.sim.demo_data import BY_KEY
from kiosk.store.journal import INTENTS, STATUSES
from kiosk.store.outbox import OUTBOX_KINDS
from tests.support.fake_backend import FakeAccount, FakeBackend

__all__ = ["FakeAccount", "FakeBackend", "FakeCardReader", "FakeClock", "FakeDevices",
           "FakeJournal", "FakeOutbox", "FakePrinter", "FakeRatingPad", "FakeTerminal", "card_of", "fake_terminal"]

SECRET = b"fake-terminal-secret-0123456789ab"
_FULL_ID = re.compile(r"\d{17}[\dXx]")


class FakeClock:
    """The terminal's wall clock (``Ports.now``), set by the test."""

    def __init__(self, at: dt.datetime = dt.datetime(2026, 11, 20, 10, 0)) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def set(self, hour: int, minute: int = 0) -> None:
        self.at = self.at.replace(hour=hour, minute=minute)


# --- the store: outbox and journal ---------------------------------------------------------------


class FakeOutbox:
    """What must reach the backend, in memory. ``full = True`` (or ``fill_after(n)`` writes)
    makes it refuse every write as a full disk does, and say so to the journey."""

    def __init__(self, log: list[str] | None = None) -> None:
        self.log = log if log is not None else []
        self.rows: dict[str, tuple[str, dict[str, Any]]] = {}  # key -> (kind, payload), in the order put
        self.full = False
        self._room: int | None = None

    def fill_after(self, writes: int) -> None:
        """The disk fills up after ``writes`` more writes go through."""
        self._room = writes

    def write(self, what: str) -> None:
        """One durable write (the journal's too: both live in one database)."""
        if self._room is not None:
            if self._room <= 0:
                self.full, self._room = True, None
            else:
                self._room -= 1
        if self.full:
            self.log.append(f"refused {what}")
            raise StoreFullError(f"fake store: full, refused {what}")
        self.log.append(what)

    def put(self, kind: str, payload: dict, idempotency_key: str | None = None) -> str:
        assert kind in OUTBOX_KINDS, kind
        key = idempotency_key or f"{kind}-{len(self.rows) + 1}"
        self.write(f"outbox.put {kind} {key}")
        self.rows.setdefault(key, (kind, copy.deepcopy(payload)))
        return key

    def unavailable_reason(self) -> tuple[str, str] | None:
        if not self.full:
            return None
        return StoreFullError.message_zh, StoreFullError.message_en

    def of(self, kind: str) -> list[dict[str, Any]]:
        """The payloads of one kind, in the order they were put."""
        return [payload for k, payload in self.rows.values() if k == kind]


class FakeJournal:
    """The journal in memory, writing through its outbox as the real one shares its database:
    a refused write refuses here too. Settled rows are queued as ``transaction`` rows. A full
    ID number or an unmasked name is refused outright: the services must pass masked data."""

    def __init__(self, outbox: FakeOutbox, log: list[str] | None = None) -> None:
        self.outbox = outbox
        self.log = log if log is not None else outbox.log
        self.rows: dict[str, dict[str, Any]] = {}  # transaction_no -> its row, as the journal holds it
        self.history: list[tuple[str, str]] = []  # (transaction_no, status) of every write, in order
        self._deferred: dict[str, dict[str, Any]] = {}
        self._seq = itertools.count(1)

    @staticmethod
    def _masked(masked_name: str, masked_id: str) -> None:
        assert not _FULL_ID.search(masked_id or ""), "a full ID number reached the journal"
        assert not masked_name or "*" in masked_name, "an unmasked name reached the journal"

    def begin(self, *, transaction_no: str, item_id: str, item_name: str, status: str, masked_name: str = "",
              masked_id: str = "", amount_fen: int | None = None, order_no: str | None = None) -> None:
        assert status in INTENTS, status
        self._masked(masked_name, masked_id)
        self.outbox.write(f"journal.begin {status} {transaction_no}")
        row = self.rows.get(transaction_no)
        if row is not None and row["status"] not in INTENTS:
            return  # settled already: it keeps its status
        self.rows[transaction_no] = {
            "transaction_no": transaction_no, "item_id": item_id, "item_name": item_name,
            "masked_name": masked_name, "masked_id": masked_id, "status": status, "at": next(self._seq),
            "amount_fen": amount_fen if amount_fen is not None else (row or {}).get("amount_fen"),
            "order_no": order_no if order_no is not None else (row or {}).get("order_no"),
        }
        self.history.append((transaction_no, status))

    def record(self, *, transaction_no: str, item_id: str, item_name: str, status: str, masked_name: str = "",
               masked_id: str = "", amount_fen: int | None = None, order_no: str | None = None,
               at: float | None = None) -> str:
        assert status in STATUSES, status
        self._masked(masked_name, masked_id)
        key = f"transaction-{transaction_no}-{status}"
        self.outbox.write(f"journal.record {status} {transaction_no}")
        row = self.rows.get(transaction_no, {})
        self.rows[transaction_no] = {
            "transaction_no": transaction_no, "item_id": item_id, "item_name": item_name,
            "masked_name": masked_name, "masked_id": masked_id, "status": status, "at": next(self._seq),
            "amount_fen": amount_fen if amount_fen is not None else row.get("amount_fen"),
            "order_no": order_no if order_no is not None else row.get("order_no"),
        }
        self.history.append((transaction_no, status))
        payload = {k: v for k, v in self.rows[transaction_no].items() if k != "at"}
        self.outbox.rows.setdefault(key, ("transaction", payload))
        self._deferred.pop(transaction_no, None)
        return key

    def settle(self, **entry: Any) -> bool:
        try:
            self.record(**entry)
        except StoreError:
            self._deferred[entry["transaction_no"]] = entry
            return False
        return True

    def deferred(self) -> list[dict[str, Any]]:
        return list(self._deferred.values())

    def drop_intent(self, transaction_no: str) -> None:
        row = self.rows.get(transaction_no)
        if row is not None and row["status"] in INTENTS:
            del self.rows[transaction_no]
            self.log.append(f"journal.drop {transaction_no}")

    def recent(self, days: float = 7, item: str | None = None) -> list[dict[str, Any]]:
        rows = [dict(r) for r in self.rows.values() if item is None or r["item_id"] == item]
        return sorted(rows, key=lambda r: r["at"], reverse=True)

    def statuses(self, transaction_no: str) -> list[str]:
        """Every status written for a matter (its ``-R`` settlement included), in order."""
        return [s for t, s in self.history if t.removesuffix("-R") == transaction_no]


# --- devices -------------------------------------------------------------------------------------


class _FakeDevice:
    name = ""

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.state = DeviceStatus.ONLINE

    def start(self, sink: EventSink) -> None: ...

    def stop(self) -> None: ...

    def status(self) -> DeviceStatus:
        return self.state

    def last_error(self) -> str:
        return "" if self.state.usable else f"fake {self.name}: {self.state}"

    def reconnect(self) -> None: ...


class FakeCardReader(_FakeDevice):
    """Holds a card object, as the real drivers do: ``current()`` is the object the
    CARD_PLACED event carried, until the card is taken away."""

    def __init__(self, name: str, log: list[str]) -> None:
        super().__init__(log)
        self.name = name
        self.card: Any = None

    def current(self) -> Any | None:
        return self.card

    def card_present(self) -> bool:
        return self.card is not None


class FakePrinter(_FakeDevice):
    """A receipt printer with paper states. ``printed`` lists the jobs that came out (each
    once, as the driver's job ids promise); ``run_out_mid_job`` tears the next job off half way."""

    name = "printer"

    def __init__(self, log: list[str]) -> None:
        super().__init__(log)
        self.paper_state = PaperStatus.FULL
        self.printed: list[PrintJob] = []
        self.jobs_completed = 0
        self.run_out_mid_job = False

    def paper(self) -> PaperStatus:
        return self.paper_state

    def refresh_status(self) -> tuple[DeviceStatus, PaperStatus]:
        return self.state, self.paper_state

    def print_job(self, job: PrintJob) -> None:
        if job.printed or any(p.job_id == job.job_id for p in self.printed):
            job.printed = True
            return
        if not self.state.usable:
            raise PrinterError(f"fake printer {self.state}; job not sent")
        if self.paper_state is PaperStatus.OUT:
            job.last_error = "out of paper"
            raise PaperOutError("fake printer: out of paper; job not sent")
        if self.run_out_mid_job:
            self.run_out_mid_job, self.paper_state = False, PaperStatus.OUT
            self.log.append(f"printer.torn {job.job_id}")
            raise PaperOutError("fake printer: paper ran out during the job")
        self.printed.append(job)
        job.printed, job.last_error = True, ""
        self.jobs_completed += 1
        self.log.append(f"printer.printed {job.job_id}")


class FakeRatingPad(_FakeDevice):
    name = "ratingpad"

    def __init__(self, log: list[str]) -> None:
        super().__init__(log)
        self.prompts: list[float] = []
        self.cancels = 0

    def prompt(self, timeout_s: float) -> None:
        self.prompts.append(timeout_s)

    def cancel(self) -> None:
        self.cancels += 1


class FakeDevices:
    """The device hub: two card readers, the receipt printer and the evaluation pad, all online.
    ``place`` / ``take`` / ``press`` change a device and tell the sink (the journey) at once,
    on the test's own thread."""

    def __init__(self, log: list[str] | None = None) -> None:
        self.log = log if log is not None else []
        self.readers = {"idcard": FakeCardReader("idcard", self.log), "sscard": FakeCardReader("sscard", self.log)}
        self.printer = FakePrinter(self.log)
        self.ratingpad = FakeRatingPad(self.log)
        self.fitted = {"idcard", "sscard", "printer", "ratingpad"}
        self._sink: EventSink | None = None

    @overload
    def device(self, name: Literal["printer"]) -> ReceiptPrinter | None: ...
    @overload
    def device(self, name: Literal["idcard", "sscard"]) -> CardReader | None: ...
    @overload
    def device(self, name: Literal["ratingpad"]) -> RatingPad | None: ...
    @overload
    def device(self, name: str) -> Device | None: ...

    def device(self, name: str) -> Any:
        if name not in self.fitted:
            return None
        return {"printer": self.printer, "ratingpad": self.ratingpad, **self.readers}.get(name)

    def unavailable_reason(self, needs: Iterable[str]) -> tuple[str, str] | None:
        for name in needs:
            zh, en = DEVICE_NAMES_ZH.get(name, name), DEVICE_NAMES_EN.get(name, name)
            device = self.device(name)
            if device is None:
                return f"本终端未配备{zh}", f"This terminal has no {en}"
            if not device.status().usable:
                return f"{zh}暂时离线", f"The {en} is offline"
            if device is self.printer and self.printer.paper_state is PaperStatus.OUT:
                return f"{zh}缺纸", f"The {en} is out of paper"
        return None

    # the running kiosk's side (Kiosk.start / stop)
    def start(self, sink: EventSink) -> None:
        self._sink = sink

    def stop(self) -> None:
        self._sink = None

    def _tell(self, event: DeviceEvent) -> None:
        if self._sink is not None:
            self._sink(event)

    def place(self, name: str, card: Any) -> Any:
        """A card laid on (or pushed into) a reader and read."""
        self.readers[name].card = card
        self._tell(DeviceEvent(name, EventKind.CARD_PLACED, card))
        return card

    def take(self, name: str) -> None:
        self.readers[name].card = None
        self._tell(DeviceEvent(name, EventKind.CARD_REMOVED, None))

    def press(self, level: int) -> None:
        """A key on the evaluation pad."""
        self._tell(DeviceEvent("ratingpad", EventKind.RATING, level))


# --- a terminal of fakes -------------------------------------------------------------------------


def card_of(resident: str, via: str = "idcard") -> Identity | SocialSecurityCard:
    """A demo resident's card, freshly read: a new object on every read, as from the drivers."""
    r = BY_KEY[resident]
    who = Identity(CardType.SOCIAL_SECURITY if via == "sscard" else CardType.RESIDENT, name=r.name,
                   id_number=r.id_number, birth_date=r.birth_date, long_term=True)
    return SocialSecurityCard(card_number=r.sscard_number, identity=who) if via == "sscard" else who


_base: tuple[KioskConfig, Catalogue] | None = None


def _config_and_catalogue() -> tuple[KioskConfig, Catalogue]:
    global _base
    if _base is None:
        _base = load_config(), load_catalogue()
    return _base


def terminal_config(**sections: dict[str, Any]) -> KioskConfig:
    """The repository's terminal config, with sections changed: ``service_hours={"always_open": False}``."""
    base = _config_and_catalogue()[0]
    updates = {"terminal": {"locale": "zh_CN"}, "ui": {"elder_mode_default": False}} | sections
    return base.model_copy(update={name: getattr(base, name).model_copy(update=values)
                                   for name, values in updates.items()})


@dataclass
class FakeTerminal:
    kiosk: Kiosk
    backend: FakeBackend
    outbox: FakeOutbox
    journal: FakeJournal
    devices: FakeDevices
    clock: FakeClock
    log: list[str] = field(default_factory=list)

    @property
    def journey(self) -> Journey:
        return self.kiosk.journey

    @property
    def printer(self) -> FakePrinter:
        return self.devices.printer

    def start(self, item_id: str, resident: str | None = None, via: str = "idcard") -> Any:
        """Choose an item, read its notice, identify (if a resident is named): its flow."""
        self.journey.choose(item_id)
        self.journey.proceed()
        if resident is not None:
            self.devices.place(via, card_of(resident, via))
        assert self.journey.state == "item", self.journey.state
        return self.journey.flow


def fake_terminal(**sections: dict[str, Any]) -> FakeTerminal:
    """A whole terminal of fakes, wired by the composition root; config sections as in
    ``terminal_config``. Certificates print in receipt form: no A4 printer (laying out the
    A4 PDF takes half a second; tests/integration/test_certificates.py covers that path)."""
    log: list[str] = []
    backend, outbox, devices, clock = FakeBackend(log), FakeOutbox(log), FakeDevices(log), FakeClock()
    journal = FakeJournal(outbox)
    kiosk = bootstrap(terminal_config(**sections), catalogue=_config_and_catalogue()[1], backend=backend,
                      outbox=outbox, journal=journal, devices=devices, a4printer=None, now=clock,
                      secret=SECRET, certificate_copies=None)
    devices.start(kiosk.journey.on_device_event)  # events reach the journey on the test's thread
    return FakeTerminal(kiosk, backend, outbox, journal, devices, clock, log)
