"""What the gateway needs from the province's government platform: the ``Platform`` protocol.

An integrator writes one class with these methods for their province (see docs/gateway.md)
and names it with ``kiosk gateway serve --adapter module:factory``. The gateway has already
checked the terminal's signature, the clock, the nonce and the request body against the
contract's model when a method is called, and checks the answer against the answer's model
after it returns, so an adapter deals only with the platform.

Rules an adapter keeps:

* Return the answer as a dict shaped like the contract's answer model (``kiosk.backend.models``);
  personal data masked as the contract says.
* Refuse with ``ApiError`` (status, code, Chinese and English message): 404 for "no such
  resident/account/order", 422 for a request the platform will not do, 409 for a state
  conflict. Raise ``PlatformUnavailable`` when the platform cannot be reached or fails: the
  terminal will try again later.
* Writes (``report_card_loss``, ``create_order``, ``close_order``, ``issue_certificate``,
  ``resolve_identity_code``, ``pay_with_code``, ``reverse_code_payment``, ``open_upload``,
  ``put_chunk``, ``submit_application``) get
  ``ctx.key``, the terminal's idempotency key. The gateway answers a resend from its own
  database, but a write interrupted by a crash of the gateway may reach the adapter twice:
  pass the key on as the platform's business serial number (业务流水号) so the platform
  applies it once.
* Methods are called on worker threads, several at once: an adapter is thread-safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from kiosk.backend import models as m


@dataclass(frozen=True)
class Ctx:
    """Who is asking: the terminal (authenticated), its idempotency key (writes) and the URL
    terminals reach the gateway at (for links printed on certificates)."""

    terminal: str
    key: str = ""
    base_url: str = ""


@runtime_checkable
class Platform(Protocol):
    # --- resident records (reads) ---------------------------------------------------------------
    def insurance(self, ctx: Ctx, q: m.ResidentQuery) -> dict[str, Any]: ...

    def contributions(self, ctx: Ctx, q: m.ContributionQuery) -> dict[str, Any]: ...

    def rights_record(self, ctx: Ctx, q: m.ResidentQuery) -> dict[str, Any]: ...

    def medical_account(self, ctx: Ctx, q: m.YearQuery) -> dict[str, Any]: ...

    def benefits(self, ctx: Ctx, q: m.ResidentQuery) -> dict[str, Any]: ...

    def resident_pension(self, ctx: Ctx, q: m.ResidentQuery) -> dict[str, Any]: ...

    # --- social-security card -------------------------------------------------------------------
    def card_status(self, ctx: Ctx, q: m.CardQuery) -> dict[str, Any]: ...

    def report_card_loss(self, ctx: Ctx, q: m.CardLossIn) -> dict[str, Any]: ...

    # --- payments -------------------------------------------------------------------------------
    def bill_statement(self, ctx: Ctx, q: m.BillQuery) -> dict[str, Any]: ...

    def contribution_options(self, ctx: Ctx, q: m.ContributionOptionsQuery) -> dict[str, Any]: ...

    def create_order(self, ctx: Ctx, q: m.BillOrderIn | m.ContributionOrderIn) -> dict[str, Any]: ...

    def order_status(self, ctx: Ctx, q: m.OrderRef) -> dict[str, Any]: ...

    def close_order(self, ctx: Ctx, q: m.OrderRef) -> dict[str, Any]: ...

    def pay_with_code(self, ctx: Ctx, q: m.CodePaymentIn) -> dict[str, Any]:
        """付款码 (被扫): one attempt; ``paying`` while the payer confirms on the phone."""
        ...

    def code_payment_status(self, ctx: Ctx, q: m.OrderRef) -> dict[str, Any]: ...

    def reverse_code_payment(self, ctx: Ctx, q: m.OrderRef) -> dict[str, Any]:
        """撤销: close the order; whatever a payment code moved goes back."""
        ...

    # --- codes on the resident's phone ----------------------------------------------------------
    def resolve_identity_code(self, ctx: Ctx, q: m.IdentityCodeIn) -> dict[str, Any]:
        """The person behind a 电子社保卡 / 电子身份证 code: single use, short-lived."""
        ...

    # --- applications (24-hour 自助申办) ---------------------------------------------------------
    def licences(self, ctx: Ctx, q: m.LicenceQuery) -> dict[str, Any]:
        """The 电子证照 the platform holds for a resident (what they are, not their content)."""
        ...

    def open_upload(self, ctx: Ctx, q: m.UploadOpen) -> dict[str, Any]:
        """Open (or, for the same ``application_key``, resume) an upload: what is already held."""
        ...

    def put_chunk(self, ctx: Ctx, q: m.ChunkIn) -> dict[str, Any]: ...

    def submit_application(self, ctx: Ctx, q: m.ApplicationIn) -> dict[str, Any]:
        """The application, its files uploaded: the 办件编号 and the promised date."""
        ...

    def application_progress(self, ctx: Ctx, q: m.ProgressQuery) -> dict[str, Any]: ...

    def application_progress_by_code(self, ctx: Ctx, q: m.ProgressCodeQuery) -> dict[str, Any]: ...

    def point_applications(self, ctx: Ctx, q: m.PointQuery) -> dict[str, Any]:
        """A service point's applications, for its 帮办代办 staff."""
        ...

    def track_application(self, code: str) -> dict[str, Any]:
        """The public progress page the 受理回执's QR code opens (masked; no signature)."""
        ...

    # --- certificates ---------------------------------------------------------------------------
    def issue_certificate(self, ctx: Ctx, q: m.CertificateRequest) -> dict[str, Any]: ...

    def verify_certificate(self, code: str) -> dict[str, Any]: ...

    # --- what terminals deliver -----------------------------------------------------------------
    def forward(self, ctx: Ctx, kind: str, payload: dict[str, Any]) -> None:
        """A delivered item (rating, transaction, ...) the platform should know about, e.g.
        the national 好差评 system. Called after the gateway stored it; raise
        ``PlatformUnavailable`` to have the terminal send it again later."""
        ...


#: the platform's methods the gateway calls, by name (a test checks adapters have them all)
METHODS: tuple[str, ...] = tuple(
    name for name in Platform.__dict__ if not name.startswith("_") and callable(Platform.__dict__[name])
)
