"""The resident's journey as a state machine, in plain Python (no Kivy).

    home -> guide (一次性告知) -> identify -> item (the flow's own steps) -> result -> rating -> home

Every way back home (done, cancelled, idle timeout, card taken away) wipes the session. The
UI is a thin view over this object: it calls these methods and redraws when told. Tests,
the ``kiosk journey`` command, the soak run and the benchmarks drive it without a window.

Threading: the journey is not locked. One thread owns it (the Kivy thread in the app, the
script's thread elsewhere); blocking flow calls (backend, printer) run on workers and hand
their results back to that thread.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transitions import Machine, MachineError

from kiosk.errors import IdentityError, JourneyError
from kiosk.hardware.base import DeviceEvent, EventKind
from kiosk.identity import CardType, Identity, SocialSecurityCard, is_valid_id_number
from kiosk.services.rating import Level, Rating, RatingArbiter, evaluator_token, rating_payload
from kiosk.services.session import Session

if TYPE_CHECKING:
    from kiosk.config import KioskConfig
    from kiosk.services.catalogue import Catalogue, ServiceItem

log = logging.getLogger(__name__)

STATES = ["home", "guide", "identify", "item", "result", "rating"]
TRANSITIONS = [
    {"trigger": "_t_choose", "source": "home", "dest": "guide"},
    {"trigger": "_t_identify", "source": "guide", "dest": "identify"},
    {"trigger": "_t_begin", "source": ["guide", "identify"], "dest": "item"},
    {"trigger": "_t_finish", "source": "item", "dest": "result"},
    {"trigger": "_t_rate", "source": "result", "dest": "rating"},
    {"trigger": "_t_home", "source": "*", "dest": "home"},
]

NETWORK_DOWN = ("网络暂时不可用，此事项暂停办理", "The network is down; this item is paused")


@dataclass(frozen=True)
class Outcome:
    """How an item ended, for the result screen (no personal data beyond masked values)."""

    ok: bool
    title_zh: str
    title_en: str
    message_zh: str = ""
    message_en: str = ""
    reference: str = ""  # transaction number or session reference, for staff
    can_retry: str = ""  # a key of RETRY_ACTIONS: what the result screen may offer to do again
    artifacts: tuple[str, ...] = ()  # receipt/certificate files in simulated mode


RETRY_ACTIONS = {"print": "print_certificate"}  # Outcome.can_retry -> the flow method that does it


@dataclass
class Ports:
    """Everything the journey talks to; built by ``kiosk.bootstrap``."""

    config: KioskConfig
    catalogue: Catalogue
    backend: Any  # kiosk.backend.client.BackendClient
    outbox: Any  # kiosk.store.outbox.Outbox
    journal: Any  # kiosk.store.journal.Journal
    devices: Any  # kiosk.hardware.hub.DeviceHub
    secret: bytes
    now: Callable[[], dt.datetime] = dt.datetime.now
    #: the A4 certificate printer (``kiosk.hardware.a4printer``); None: certificates on receipts
    a4printer: Any = None
    #: where a copy of every issued certificate is kept (PDF and PNG), for reviewers; None: nowhere
    certificate_copies: Path | None = None


class Journey:
    def __init__(self, ports: Ports) -> None:
        self.ports = ports
        self.session = Session(
            locale=ports.config.terminal.locale, elder_mode=ports.config.ui.elder_mode_default
        )
        self.item: ServiceItem | None = None
        self.flow: Any = None
        self.outcome: Outcome | None = None
        self.arbiter = RatingArbiter()
        self.backend_online = True
        #: technician maintenance (XFS vendor mode): the terminal serves no resident
        self.maintenance = False
        self.end_reason = ""
        self._listeners: list[Callable[[Journey], None]] = []
        self.state = "home"
        self._machine = Machine(
            model=self,
            states=STATES,
            transitions=TRANSITIONS,
            initial="home",
            auto_transitions=False,
            after_state_change="_changed",
        )

    # --- observers -------------------------------------------------------------------------

    def subscribe(self, listener: Callable[[Journey], None]) -> None:
        self._listeners.append(listener)

    def _changed(self) -> None:
        log.info("journey %s -> %s", self.session.reference, self.state)
        for listener in list(self._listeners):
            listener(self)

    def _trigger(self, name: str) -> None:
        try:
            getattr(self, name)()
        except MachineError as e:
            raise JourneyError(f"cannot {name.removeprefix('_t_')} from {self.state}") from e

    # --- availability ----------------------------------------------------------------------

    def closed_reason(self) -> tuple[str, str] | None:
        """Why no resident can be served now (maintenance, outside service hours), or None."""
        if self.maintenance:
            return ("终端维护中，暂停服务", "Under maintenance: out of service")
        hours = self.ports.config.service_hours
        if not hours.is_open(self.ports.now()):
            return (
                f"不在服务时间（每日 {hours.open:%H:%M}–{hours.close:%H:%M}）",
                f"Closed now (open daily {hours.open:%H:%M}–{hours.close:%H:%M})",
            )
        return None

    def unavailable_reason(self, item: ServiceItem) -> tuple[str, str] | None:
        """Why an item cannot be started now, as (zh, en); None when it can."""
        if item.kind != "self_service":
            return None  # guides are always readable
        # each item journals or rates: no usable store, no item (a fake outbox without the
        # store's health always has room)
        stored = getattr(self.ports.outbox, "unavailable_reason", lambda: None)()
        if stored is not None:
            return stored
        if item.online and not self.backend_online:
            return NETWORK_DOWN
        devices = self.ports.devices
        readers = [m for m in item.identify if m in ("idcard", "sscard")]
        if readers and "keyed" not in item.identify:
            # any one accepted card reader is enough; all of them down makes the item unavailable
            reasons = [devices.unavailable_reason([r]) for r in readers]
            if all(reasons):
                return reasons[0]
        return devices.unavailable_reason(item.devices)

    # --- the journey -----------------------------------------------------------------------

    def choose(self, item_id: str) -> None:
        item = self.ports.catalogue.by_id(item_id)
        reason = self.closed_reason() or self.unavailable_reason(item)
        if reason is not None:
            raise JourneyError(f"item {item_id} unavailable: {reason[1]}", message_zh=reason[0], message_en=reason[1])
        self.session.wipe()
        self.session.item_id = item.id
        self.item, self.flow, self.outcome, self.end_reason = item, None, None, ""
        self.arbiter = RatingArbiter()
        self._trigger("_t_choose")

    def proceed(self) -> None:
        """From the 一次性告知 screen: identify if the item needs it, else its own steps."""
        assert self.item is not None
        if self.item.kind != "self_service":
            raise JourneyError(f"{self.item.id} is a guide: it has no steps on this terminal")
        if self.item.identify:
            self._trigger("_t_identify")
        else:
            self._begin()

    def identify(self, who: Identity | SocialSecurityCard, via: str) -> None:
        """A card was read (or a number keyed) while the identify screen is up."""
        assert self.item is not None
        if self.state != "identify":
            return
        if via not in self.item.identify:
            raise IdentityError(
                f"{self.item.id} does not accept {via}",
                message_zh="此事项不支持该证件，请使用屏幕提示的证件",
                message_en="This item does not accept that card; use the card shown on screen",
            )
        identity = who.identity if isinstance(who, SocialSecurityCard) else who
        if identity.card_type in (CardType.RESIDENT, CardType.SOCIAL_SECURITY, CardType.KEYED):
            if not is_valid_id_number(identity.id_number):
                raise IdentityError("ID number fails its check digit")
        if identity.is_expired(self.ports.now().date()):
            raise IdentityError(
                "identity document expired",
                message_zh="证件已过有效期，请使用有效证件",
                message_en="This document has expired; please use a valid one",
            )
        self.session.identity = identity
        self.session.sscard = who if isinstance(who, SocialSecurityCard) else None
        self.session.identified_by = via
        self._begin()

    def _begin(self) -> None:
        from kiosk.services.flows import flow_for

        assert self.item is not None
        self.session.transaction_no = self._transaction_no()
        self.flow = flow_for(self.item, self)
        self._trigger("_t_begin")

    def finish(self, outcome: Outcome) -> None:
        """The flow is done (well or not): show the result."""
        self.outcome = outcome
        self._trigger("_t_finish")

    def update_outcome(self, outcome: Outcome) -> None:
        """A retried action (e.g. printing again) changed how the item ended."""
        if self.state != "result":
            return
        self.outcome = outcome
        self._changed()

    def retry_action(self) -> Any:
        """The flow action the outcome offers to do again, or None. It blocks (run it off the
        UI thread) and returns the new Outcome, for ``update_outcome``."""
        if self.state != "result" or self.outcome is None or self.flow is None:
            return None
        name = RETRY_ACTIONS.get(self.outcome.can_retry)
        return getattr(self.flow, name, None) if name else None

    def to_rating(self) -> None:
        self._trigger("_t_rate")

    def rate(self, rating: Rating) -> bool:
        """Record the rating if it is the first answer; return whether it counted."""
        if self.state != "rating":
            return False
        rating.validate()
        if not self.arbiter.offer(rating):
            return False
        self._record_rating(rating)
        self.session.rated = True
        self.end("rated")
        return True

    def rating_timed_out(self) -> bool:
        """No answer in time: recorded as 'not rated', never as a level."""
        return self.rate(Rating(level=None, source="timeout"))

    def end(self, reason: str) -> None:
        """Back home from anywhere; every personal datum of the session is dropped."""
        self.end_reason = reason
        self.session.wipe()
        self.flow = None
        self.item = None
        self.session = Session(
            locale=self.session.locale, elder_mode=self.session.elder_mode
        )  # a fresh reference for the next resident; language and elder mode stay
        if self.state != "home":
            self._trigger("_t_home")

    # --- devices ---------------------------------------------------------------------------

    def on_device_event(self, event: DeviceEvent) -> None:
        """Called on the journey's own thread for every hub event."""
        if event.kind is EventKind.CARD_PLACED and self.state == "identify":
            self.identify(event.payload, event.device)
        elif event.kind is EventKind.CARD_REMOVED and self.state in ("item",):
            if self.session.identified_by == event.device:
                log.info("card removed during the item; ending session %s", self.session.reference)
                self.end("card_removed")
        elif event.kind is EventKind.RATING and self.state == "rating":
            self.rate(Rating(level=Level(int(event.payload)), source="pad"))

    # --- helpers ---------------------------------------------------------------------------

    def _transaction_no(self) -> str:
        now = self.ports.now()
        return f"{self.ports.config.terminal.id}-{now:%Y%m%d%H%M%S}-{secrets.token_hex(2).upper()}"

    def _record_rating(self, rating: Rating) -> None:
        assert self.item is not None or self.outcome is not None
        s = self.session
        payload = rating_payload(
            rating,
            transaction_no=s.transaction_no or s.reference,
            area_code=self.ports.config.terminal.area_code,
            item_id=self.item.id if self.item else "",
            item_name=self.item.name_zh if self.item else "",
            evaluator_hash=evaluator_token(s.identity.id_number if s.identity else s.reference, self.ports.secret),
            evaluator_masked=s.identity.masked_name if s.identity else "",
            at=self.ports.now(),
        )
        self.ports.outbox.put("rating", payload, idempotency_key=f"rating-{payload['transaction_no']}")
