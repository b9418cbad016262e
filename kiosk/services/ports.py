"""What the journey and the flows need from the world outside them, as ``typing.Protocol``s.

Each port is what the services call, and no more: ``kiosk.bootstrap`` wires the real adapters
(``kiosk.backend.client.BackendClient``, ``kiosk.store.outbox.Outbox``,
``kiosk.store.journal.Journal``, ``kiosk.hardware.hub.DeviceHub``, a CUPS queue) and the unit
tests wire hand-written in-memory fakes (``tests/support/fakes.py``); ``make typecheck``
checks that both fit. The docstrings say the promises a fake has to keep as the adapter does:
the rules of the services (never charged twice, never printed twice, intents on disk before an
irreversible act) rest on them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal, Protocol, overload

from kiosk.hardware.base import CardReader, Device, RatingPad, ReceiptPrinter

#: the readers a resident identifies with
ReaderName = Literal["idcard", "sscard"]


class Backend(Protocol):
    """The government platform, as the services ask it (answers in the contract's shapes,
    ``kiosk.backend.models``).

    Every call raises ``BackendUnavailableError`` when the backend cannot be reached or its
    answer was lost: a write may then have been applied or not. Writes carry an idempotency
    key, and the same key always gets the first answer back (one order, one certificate, one
    loss report per key). A refusal is a ``BackendError`` with the backend's ``code``, not
    retryable; nothing was done.
    """

    def insurance_info(self, id_number: str) -> dict: ...

    def contributions(self, id_number: str, year: int | None = None) -> dict: ...

    def certificate(
        self,
        id_number: str,
        kind: str,
        idempotency_key: str,
        *,
        year: int | None = None,
        scheme: str | None = None,
        period_from: str | None = None,
        period_to: str | None = None,
    ) -> dict: ...

    def rights_record(self, id_number: str) -> dict: ...

    def medical_account(self, id_number: str, year: int | None = None) -> dict: ...

    def benefits(self, id_number: str) -> dict: ...

    def resident_pension(self, id_number: str) -> dict: ...

    def bill(self, utility: str, account_no: str) -> dict: ...

    def contribution_options(self, id_number: str, scheme: str) -> dict: ...

    def create_order(self, order: dict, idempotency_key: str) -> dict:
        """A payment order, priced by the backend; the same key gives the same order."""
        ...

    def reconcile_order(self, order_no: str, *, close_unpaid: bool = False) -> dict:
        """What became of an order. Only asks, never pays; ``close_unpaid`` closes an unpaid
        order, and returns the paid order if the resident paid first."""
        ...

    def card_status(self, id_number: str) -> dict: ...

    def report_card_loss(self, id_number: str, phone: str, idempotency_key: str) -> dict: ...

    def licences(self, id_number: str) -> dict:
        """The 电子证照 the platform holds for the resident (``models.Licences``)."""
        ...

    def application_progress(self, id_number: str) -> dict:
        """办件进度: every application of the resident, newest first (``models.ProgressList``)."""
        ...

    def application_progress_by_code(self, code: str) -> dict:
        """办件进度 of the one application a 受理回执's QR code names (``models.ApplicationProgress``)."""
        ...

    def resolve_identity_code(self, code: str, idempotency_key: str) -> dict:
        """The person behind a 电子社保卡 / 电子身份证 code. Keyed, because resolving uses the
        code up: a resend after a lost answer gets the same answer. Refusals are ``BackendError``."""
        ...

    def pay_with_code(self, order_no: str, auth_code: str, idempotency_key: str, *, deadline_s: float) -> dict:
        """Pay an order with the resident's 付款码; the answer must come within ``deadline_s``
        (``BackendUnavailableError`` otherwise: the payment is then in doubt)."""
        ...

    def code_payment_status(self, order_no: str) -> dict:
        """What became of a code payment whose answer was lost. Only asks."""
        ...

    def reverse_code_payment(self, order_no: str, idempotency_key: str) -> dict:
        """撤销: undo a code payment (or make sure none happens) for an order."""
        ...


class Outbox(Protocol):
    """What must reach the backend, durable before ``put`` returns (``kiosk.store.outbox``)."""

    def put(self, kind: str, payload: dict, idempotency_key: str | None = None) -> str:
        """Queue ``payload``; the same key again adds nothing. Raises ``StoreError`` when the
        store refuses the write."""
        ...

    def unavailable_reason(self) -> tuple[str, str] | None:
        """Why items that write the store cannot start now, as (zh, en); None when they can.
        No I/O: the UI thread asks."""
        ...


class Journal(Protocol):
    """The terminal's journal of matters (``kiosk.store.journal``): an intent before every
    irreversible act, a settled status after it."""

    def begin(
        self,
        *,
        transaction_no: str,
        item_id: str,
        item_name: str,
        status: str,
        masked_name: str = "",
        masked_id: str = "",
        amount_fen: int | None = None,
        order_no: str | None = None,
    ) -> None:
        """The intent (started, printing, paying), durable on return; raises ``StoreError``
        (``StoreFullError`` below the free-space minimum) and then the act must not happen."""
        ...

    def record(
        self,
        *,
        transaction_no: str,
        item_id: str,
        item_name: str,
        status: str,
        masked_name: str = "",
        masked_id: str = "",
        amount_fen: int | None = None,
        order_no: str | None = None,
        at: float | None = None,
    ) -> str:
        """Settle a matter (completed, failed, cancelled, paid_unconfirmed) and queue it for the
        backend in the same write; raises ``StoreError``."""
        ...

    def settle(self, **entry: Any) -> bool:
        """``record`` after the act: a refused write is kept and written later, never raised."""
        ...

    def drop_intent(self, transaction_no: str) -> None:
        """Forget an intent whose act did not happen; a settled matter is never dropped."""
        ...

    def recent(self, days: float = 7, item: str | None = None) -> list[dict[str, Any]]:
        """Rows, newest first."""
        ...


class Devices(Protocol):
    """The device hub: each configured device by name, and whether an item's devices are usable."""

    @overload
    def device(self, name: Literal["printer"]) -> ReceiptPrinter | None: ...

    @overload
    def device(self, name: ReaderName) -> CardReader | None: ...

    @overload
    def device(self, name: Literal["ratingpad"]) -> RatingPad | None: ...

    @overload
    def device(self, name: str) -> Device | None: ...

    def unavailable_reason(self, needs: Iterable[str]) -> tuple[str, str] | None:
        """None when every named device is usable, else (zh, en) for the first that is not."""
        ...


class A4Printer(Protocol):
    """The A4 certificate printer (a CUPS queue): success means the job was accepted."""

    @property
    def queue(self) -> str: ...

    def submit(self, path: Path, title: str) -> str:
        """Hand a PDF to the queue; its request id. Raises ``PrinterError``."""
        ...
