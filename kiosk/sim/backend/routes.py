"""The simulated platform's operations: the gateway's ``Platform`` method -> the data module
that answers it. Each takes a ``Call`` and returns (status, answer) or raises ``ApiError``."""

from __future__ import annotations

from collections.abc import Callable

from kiosk.sim.backend import applications, certificates, paycode, payments, residents, tokens
from kiosk.sim.backend.api import Call

Handler = Callable[[Call], tuple[int, dict]]

OPERATIONS: dict[str, Handler] = {
    "insurance": residents.insurance,
    "contributions": residents.contributions,
    "rights_record": residents.rights_record,
    "medical_account": residents.medical_account,
    "benefits": residents.benefits,
    "resident_pension": residents.resident_pension,
    "card_status": residents.card_status,
    "report_card_loss": residents.report_card_loss,
    "bill_statement": payments.bill_statement,
    "contribution_options": payments.contribution_options,
    "create_order": payments.create_order,
    "order_status": payments.order_status,
    "close_order": payments.close_order,
    "issue_certificate": certificates.issue,
    "resolve_identity_code": tokens.resolve,
    "pay_with_code": paycode.pay,
    "code_payment_status": paycode.status,
    "reverse_code_payment": paycode.reverse,
    "licences": applications.licences,
    "open_upload": applications.open_upload,
    "put_chunk": applications.put_chunk,
    "submit_application": applications.submit,
    "application_progress": applications.progress,
    "application_progress_by_code": applications.progress_by_code,
    "point_applications": applications.by_point,
}
