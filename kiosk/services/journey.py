"""The resident's journey as a state machine, in plain Python (no Kivy).

    home -> guide (一次性告知) -> identify -> item (the flow's own steps) -> result -> rating
         -> farewell (thanks / why it ended / take your card and papers) -> home

Every way back home (done, cancelled, idle timeout, card taken away) wipes the session and
resets what the resident chose (language, 大字版, category) to the terminal's defaults. The
UI is a thin view over this object: it calls these methods and redraws when told. Tests,
the ``kiosk journey`` command, the soak run and the benchmarks drive it without a window.

Cards and sessions: a session identifies only from a card placed or inserted after it began.
A card already lying on a reader when a resident starts an item (the last resident's, left
behind) is never used: the resident is asked to take it away and place it again. When a
visit ends with a card still on or in a reader, the farewell screen stays up until it is
taken (or ``take_card_timeout_s`` passes). Scanned codes follow the same rule: a 电子社保卡 /
电子身份证 code identifies only when it was scanned after the resident chose 扫码核验 in this
session (``start_scan``); a code scanned before that never identifies anyone.

Threading: the journey is not locked. One thread owns it (the Kivy thread in the app, the
script's thread elsewhere); blocking flow calls (backend, printer) run on workers and hand
their results back to that thread.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transitions import Machine, MachineError

from kiosk.errors import IdentityError, JourneyError, KioskError
from kiosk.hardware.base import DeviceEvent, EventKind
from kiosk.identity import CardType, Identity, SocialSecurityCard, is_valid_id_number
from kiosk.services.catalogue import IDENTIFY_DEVICES
from kiosk.services.rating import (
    Level,
    Rating,
    RatingArbiter,
    evaluator_token,
    online_rating_url,
    rating_payload,
)
from kiosk.services.session import Session

if TYPE_CHECKING:
    from kiosk.config import KioskConfig
    from kiosk.services.catalogue import Catalogue, ServiceItem
    from kiosk.services.ports import A4Printer, Backend, Devices, Journal, Outbox

log = logging.getLogger(__name__)

STATES = ["home", "guide", "identify", "item", "result", "rating", "farewell"]
TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "_t_choose", "source": "home", "dest": "guide"},
    {"trigger": "_t_identify", "source": "guide", "dest": "identify"},
    {"trigger": "_t_begin", "source": ["guide", "identify"], "dest": "item"},
    {"trigger": "_t_finish", "source": "item", "dest": "result"},
    {"trigger": "_t_rate", "source": "result", "dest": "rating"},
    {"trigger": "_t_farewell", "source": "*", "dest": "farewell"},
    {"trigger": "_t_home", "source": "*", "dest": "home"},
]

#: the devices a resident identifies with, which can hold a card after the visit
READERS = ("idcard", "sscard")
#: identity documents whose number carries the GB 11643 check character
CHECKED_NUMBERS = (CardType.RESIDENT, CardType.SOCIAL_SECURITY, CardType.KEYED, CardType.E_SSCARD, CardType.E_ID)
#: why a visit ended -> the farewell screen says it even when there is nothing to take
SAYS_WHY = {"rated", "card_removed", "timeout"}
#: ends that go straight home: the technician's gesture, and 帮办代办 (which opens its own item)
NO_FAREWELL = {"admin", "help"}
#: flows a code scanned at the identify step starts instead of a card: the 受理回执's QR code
#: opens 办件进度查询 of that one application (the flow reads ``session.data["scanned_code"]``)
SCANNED_CODE_FLOWS = ("application_progress",)


@dataclass(frozen=True)
class Farewell:
    """What the end-of-visit screen says: why the visit ended and what is left to take."""

    reason: str  # rated | card_removed | timeout | cancelled | done ...
    cards: tuple[str, ...]  # readers still holding a card ("idcard", "sscard")
    papers: tuple[str, ...]  # "certificate" and/or "receipt" printed during the visit
    since: float = field(default_factory=time.monotonic)

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
    #: done, but what it found needs the resident's attention (a lost card, a payment being
    #: confirmed): the result shows a notice, never a green tick
    notice: bool = False

    @property
    def tone(self) -> str:
        """success | notice | failure: the result's badge."""
        return "notice" if self.notice else ("success" if self.ok else "failure")

    @classmethod
    def failed(
        cls,
        error: KioskError,
        reference: str,
        *,
        title: tuple[str, str] = ("未能办理", "This could not be done"),
        then: tuple[str, str] = ("", ""),
    ) -> Outcome:
        """An item that could not be done: the error's message for residents, then what to do
        next (``then``, Chinese and English), with the reference staff will ask for."""
        return cls(
            ok=False,
            title_zh=title[0],
            title_en=title[1],
            message_zh=_then(error.message_zh, then[0], _FULL_STOP),
            message_en=_then(error.message_en, then[1], _PERIOD),
            reference=reference,
        )


_FULL_STOP = "。"  # apart, not in a pair: a stop is no screen string of its own
_PERIOD = ". "


def _then(message: str, then: str, stop: str) -> str:
    """Two sentences as one text, with one full stop between them whether or not the first had one."""
    return f"{message.rstrip(stop.strip())}{stop}{then}" if then else message


RETRY_ACTIONS = {"print": "print_certificate"}  # Outcome.can_retry -> the flow method that does it


@dataclass
class Ports:
    """Everything the journey talks to (``kiosk.services.ports``); built by ``kiosk.bootstrap``."""

    config: KioskConfig
    catalogue: Catalogue
    backend: Backend
    outbox: Outbox
    journal: Journal
    devices: Devices
    secret: bytes
    now: Callable[[], dt.datetime] = dt.datetime.now
    #: the A4 certificate printer (``kiosk.hardware.a4printer``); None: certificates on receipts
    a4printer: A4Printer | None = None
    #: where a copy of every issued certificate is kept (PDF and PNG), for reviewers; None: nowhere
    certificate_copies: Path | None = None
    #: applications waiting for the backend, sealed (``kiosk.store.applications``); None: none taken
    applications: Any = None
    #: runs a write the resident need not wait for (the rating's fsynced outbox row) off the
    #: caller's thread: the app hands it to its worker, so a tap never waits on the disk. By
    #: default at once, on the caller's thread (scripted runs, tests).
    write_behind: Callable[[Callable[[], Any]], Any] = field(default=lambda write: write())


class Journey:
    def __init__(self, ports: Ports) -> None:
        self.ports = ports
        self.session = self._fresh_session()
        self.item: ServiceItem | None = None
        self.flow: Any = None
        self.outcome: Outcome | None = None
        self.arbiter = RatingArbiter()
        self.backend_online = True
        #: technician maintenance (XFS vendor mode): the terminal serves no resident
        self.maintenance = False
        self.end_reason = ""
        self.farewell: Farewell | None = None
        #: reader -> the card that lay on it when the session began (never used to identify)
        self._left_over: dict[str, Any] = {}
        #: the resident chose 扫码核验: the identify step waits for a code from the scanner
        self.scanning = False
        self._scan_since = 0.0  # time.time() when 扫码核验 was chosen: earlier codes never count
        self._scans = 0  # codes sent to the backend in this session (each has its own key)
        self._printed_before = 0  # the printer's job count when the session began
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
        # each item journals or rates: no usable store, no item
        stored = self.ports.outbox.unavailable_reason()
        if stored is not None:
            return stored
        if item.online and not self.backend_online:
            return NETWORK_DOWN
        devices = self.ports.devices
        readers = [IDENTIFY_DEVICES[m] for m in item.identify if m in IDENTIFY_DEVICES]
        if readers and "keyed" not in item.identify:
            # any one accepted reader is enough; all of them down makes the item unavailable
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
        self._left_over = {name: self._card_on(name) for name in READERS if self._holds_card(name)}
        self.scanning, self._scans = False, 0
        if self._left_over:
            log.info("session %s begins with a card left on %s: it will not be used",
                     self.session.reference, ", ".join(self._left_over))
        self._printed_before = self._jobs_printed()
        self._trigger("_t_choose")

    def proceed(self) -> None:
        """From the 一次性告知 screen: identify if the item needs it, else its own steps."""
        assert self.item is not None
        if self.item.kind != "self_service":
            raise JourneyError(f"{self.item.id} is a guide: it has no steps on this terminal")
        if self.item.identify:
            self._trigger("_t_identify")
            self._identify_from_a_card_already_placed()
        else:
            self._begin()

    def _identify_from_a_card_already_placed(self) -> None:
        """A card placed while the resident read the notice (after the session began) is used
        at once; the card left over from before the session is not."""
        assert self.item is not None
        for name in self.item.identify:
            if name not in READERS:
                continue
            card = self._card_on(name)
            if card is not None and card is not self._left_over.get(name):
                self.identify(card, name)
                return

    # --- 扫码核验 -----------------------------------------------------------------------------

    def scan_offered(self) -> bool:
        """The item accepts a 电子社保卡 / 电子身份证 code and a scanner is fitted here."""
        devices = self.ports.devices
        fitted = getattr(devices, "fitted", None)
        return (self.item is not None and "scan" in self.item.identify
                and (fitted("scanner") if callable(fitted) else devices.device("scanner") is not None))

    def start_scan(self) -> None:
        """扫码核验 on the identify screen: from now on a code shown to the scanner identifies."""
        if self.state != "identify" or not self.scan_offered():
            raise IdentityError(
                "scan not offered",
                message_zh="此事项须使用实体证件办理，不支持扫码核验",
                message_en="This item needs the card itself; a code on the phone cannot be used",
            )
        self.scanning, self._scan_since = True, time.time()
        self._changed()

    def stop_scan(self) -> None:
        """Back from the scan step to the cards."""
        if self.scanning:
            self.scanning = False
            if self.state == "identify":
                self._changed()

    def accept_scan(self, event: DeviceEvent) -> Any:
        """The scanned code if it may identify this resident now, else None: only while the
        scan step is up, and only a code scanned after it began (a code scanned before, by this
        resident or the one before, never identifies anyone)."""
        if event.kind is not EventKind.SCAN or self.state != "identify" or not self.scanning:
            return None
        if event.at < self._scan_since:
            log.info("session %s: a code scanned before 扫码核验 was ignored", self.session.reference)
            return None
        return event.payload

    def next_scan_key(self) -> str:
        """The idempotency key for resolving one scanned code (a resend after a lost answer
        gets the same answer, not "already used")."""
        self._scans += 1
        return f"{self.session.reference}-scan-{self._scans}"

    def cards_to_lift(self) -> tuple[str, ...]:
        """Readers accepted by this item that still hold the card left from before the
        session: the identify screen asks the resident to take it away and place it again."""
        accepted = self.item.identify if self.item is not None else ()
        return tuple(n for n in READERS if n in accepted and n in self._left_over and self._holds_card(n))

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
        if identity.card_type in CHECKED_NUMBERS:
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
        self.scanning = False
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

    def online_rating_url(self) -> str:
        """The rating screen's QR code: this matter rated online later (一事一评)."""
        cfg = self.ports.config
        return online_rating_url(cfg.terminal.online_rating_url or cfg.backend.url,
                                 transaction_no=self.session.matter_no, area_code=cfg.terminal.area_code,
                                 item_id=self.item.id if self.item else "")

    def rate(self, rating: Rating) -> bool:
        """Record the rating if it is the first answer; return whether it counted."""
        if self.state != "rating":
            return False
        rating.validate()
        if not self.arbiter.offer(rating):
            return False
        self._record_rating(rating)
        self.session.rated = True
        self.end("rated" if rating.level is not None else "rating_timeout")
        return True

    def rating_timed_out(self) -> bool:
        """No answer in time: recorded as 'not rated', never as a level."""
        return self.rate(Rating(level=None, source="timeout"))

    def end(self, reason: str) -> None:
        """The visit ends, from anywhere: every personal datum of the session is dropped, and
        what the resident chose (language, 大字版, category) goes back to the terminal's
        defaults. The farewell screen follows when there is something to say or to take; it
        still speaks the resident's language in the resident's type size, and the defaults
        return with the home screen."""
        papers = self.papers_printed()
        self.end_reason = reason
        self.session.wipe()
        forget = getattr(self.flow, "wipe", None)  # a flow that holds secrets (a PIN) drops them
        if callable(forget):
            forget()
        self.flow = None
        self.item = None
        locale, elder = self.session.locale, self.session.elder_mode
        self.session = self._fresh_session()
        self._left_over = {}
        self.scanning = False
        cards = tuple(n for n in READERS if self._holds_card(n))
        if self.state == "home":
            self._changed()  # the defaults are back (an idle home screen after a timeout)
        elif reason in NO_FAREWELL or not (cards or papers or reason in SAYS_WHY):
            self.farewell = None
            self._trigger("_t_home")
        else:
            self.farewell = Farewell(reason, cards, papers)
            self.session.locale, self.session.elder_mode = locale, elder  # until home
            log.info("visit ended (%s); left to take: %s", reason, ", ".join(cards + papers) or "nothing")
            self._trigger("_t_farewell")

    def settle_farewell(self, now: float | None = None) -> None:
        """Called every second or so, and when a card leaves: once the farewell has been up
        ``farewell_s`` with no card left, or a card has stayed ``take_card_timeout_s``, home."""
        farewell = self.farewell
        if self.state != "farewell" or farewell is None:
            return
        cfg = self.ports.config.session
        elapsed = (time.monotonic() if now is None else now) - farewell.since
        cards = tuple(n for n in farewell.cards if self._holds_card(n))
        if (not cards and elapsed >= cfg.farewell_s) or elapsed >= cfg.take_card_timeout_s:
            if cards:
                log.warning("a card was left on %s after %.0f s; back home (it will not identify anyone)",
                            ", ".join(cards), elapsed)
            self._home_after_farewell()
        elif cards != farewell.cards:
            self.farewell = replace(farewell, cards=cards)
            self._changed()

    def dismiss_farewell(self) -> bool:
        """返回首页 on the farewell screen: home now, unless a card is still to be taken."""
        farewell = self.farewell
        if self.state != "farewell" or farewell is None:
            return False
        if any(self._holds_card(n) for n in farewell.cards):
            return False
        self._home_after_farewell()
        return True

    def _home_after_farewell(self) -> None:
        fresh = self._fresh_session()
        self.session.locale, self.session.elder_mode = fresh.locale, fresh.elder_mode
        self.farewell = None
        self._trigger("_t_home")

    def _fresh_session(self) -> Session:
        return Session(locale=self.ports.config.terminal.locale, elder_mode=self.ports.config.ui.elder_mode_default)

    # --- devices ---------------------------------------------------------------------------

    def on_device_event(self, event: DeviceEvent) -> None:
        """Called on the journey's own thread for every hub event."""
        if event.kind is EventKind.CARD_PLACED:
            if event.device in self._left_over and self._left_over[event.device] is event.payload:
                return  # the card from before the session, reported late: never identifies
            self._left_over.pop(event.device, None)
            if self.state == "identify":
                self.identify(event.payload, event.device)
        elif event.kind is EventKind.CARD_REMOVED:
            lifted = self._left_over.pop(event.device, None) is not None
            if self.state == "item" and self.session.identified_by == event.device:
                if getattr(self.flow, "card_may_leave", False):
                    # the card is a material itself: it goes under the document camera (the idle
                    # timeout still ends a visit the resident walked away from)
                    log.info("card lifted during the item of session %s; the item goes on", self.session.reference)
                else:
                    log.info("card removed during the item; ending session %s", self.session.reference)
                    self.end("card_removed")
            elif self.state == "farewell":
                self.settle_farewell()
            elif lifted and self.state == "identify":
                self._changed()  # the "take it away first" prompt goes
        elif event.kind is EventKind.RATING and self.state == "rating":
            self.rate(Rating(level=Level(int(event.payload)), source="pad"))
        elif event.device == "scanner" and isinstance(event.payload, str) and self.state == "identify":
            self.begin_with_code(event.payload)

    def begin_with_code(self, code: str) -> bool:
        """A code scanned while the identify screen is up starts an item that accepts one
        (``SCANNED_CODE_FLOWS``) without a card; the code itself is never logged."""
        if self.state != "identify" or self.item is None or self.item.flow not in SCANNED_CODE_FLOWS:
            return False
        self.session.data["scanned_code"] = code
        self.session.identified_by = "scanned_code"
        self._begin()
        return True

    def _card_on(self, name: str) -> Any:
        device = self.ports.devices.device(name)
        current = getattr(device, "current", None)
        return current() if callable(current) else None

    def _holds_card(self, name: str) -> bool:
        device = self.ports.devices.device(name)
        present = getattr(device, "card_present", None)
        return bool(present()) if callable(present) else self._card_on(name) is not None

    def _jobs_printed(self) -> int:
        return int(getattr(self.ports.devices.device("printer"), "jobs_completed", 0) or 0)

    def papers_printed(self) -> tuple[str, ...]:
        """What came out of the printer during this visit, for the "take your papers" line."""
        if self.item is None:
            return ()
        if self.session.data.get("cups_request"):
            return ("certificate",)  # from the A4 printer
        if self._jobs_printed() <= self._printed_before:
            return ()
        from kiosk.services.flows import FLOWS

        certificate = FLOWS.get(self.item.flow or "", "").startswith("kiosk.services.certificates:")
        return ("certificate",) if certificate else ("receipt",)

    # --- helpers ---------------------------------------------------------------------------

    def _transaction_no(self) -> str:
        now = self.ports.now()
        return f"{self.ports.config.terminal.id}-{now:%Y%m%d%H%M%S}-{secrets.token_hex(2).upper()}"

    def _record_rating(self, rating: Rating) -> None:
        assert self.item is not None or self.outcome is not None
        s = self.session
        payload = rating_payload(
            rating,
            transaction_no=s.matter_no,
            area_code=self.ports.config.terminal.area_code,
            item_id=self.item.id if self.item else "",
            item_name=self.item.name_zh if self.item else "",
            evaluator_hash=evaluator_token(s.identity.id_number if s.identity else s.reference, self.ports.secret),
            evaluator_masked=s.identity.masked_name if s.identity else "",
            at=self.ports.now(),
        )
        key = f"rating-{payload['transaction_no']}"
        self.ports.write_behind(lambda: self.ports.outbox.put("rating", payload, idempotency_key=key))
