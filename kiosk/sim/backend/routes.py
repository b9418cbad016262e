"""The reference backend's route table: (method, path) -> handler. Mirrors ``openapi.yaml``.

Every route that touches a resident or writes anything is a signed POST; GET is kept for the
two public, unsigned reads, so that urllib3's retry of GETs can never resend a used nonce.
"""

from __future__ import annotations

from collections.abc import Callable

from kiosk.backend import models as m
from kiosk.sim.backend import applications, certificates, payments, residents
from kiosk.sim.backend.api import Call, delivery, health

Handler = Callable[[Call], tuple[int, dict]]

ROUTES: dict[tuple[str, str], Handler] = {
    ("GET", "/v1/health"): health,
    ("POST", "/v1/residents/insurance"): residents.insurance,
    ("POST", "/v1/residents/contributions"): residents.contributions,
    ("POST", "/v1/residents/rights-record"): residents.rights_record,
    ("POST", "/v1/residents/medical-account"): residents.medical_account,
    ("POST", "/v1/residents/benefits"): residents.benefits,
    ("POST", "/v1/residents/resident-pension"): residents.resident_pension,
    ("POST", "/v1/cards/status"): residents.card_status,
    ("POST", "/v1/cards/report-loss"): residents.report_card_loss,
    ("POST", "/v1/bills/query"): payments.bill_statement,
    ("POST", "/v1/contributions/options"): payments.contribution_options,
    ("POST", "/v1/orders"): payments.create_order,
    ("POST", "/v1/orders/status"): payments.order_status,
    ("POST", "/v1/orders/close"): payments.close_order,
    ("POST", "/v1/certificates"): certificates.issue,
    ("GET", "/v1/certificates/verify"): certificates.verify,
} | {("POST", path): delivery(kind) for kind, (path, _model) in m.DELIVERY.items()} | applications.ROUTES

#: routes anyone may call without a terminal signature (no personal data behind them)
UNSIGNED = {("GET", "/v1/health"), ("GET", "/v1/certificates/verify")} | applications.UNSIGNED

#: writes: refused without a well-formed Idempotency-Key before anything else is looked at
KEYED = {
    ("POST", "/v1/cards/report-loss"),
    ("POST", "/v1/orders"),
    ("POST", "/v1/orders/close"),
    ("POST", "/v1/certificates"),
} | {("POST", path) for path, _model in m.DELIVERY.values()} | applications.KEYED
