"""The contract cannot drift: openapi.yaml matches the models, and the running reference
backend answers what the document says (schemathesis, bounded examples, signed requests)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import requests
import schemathesis
from hypothesis import HealthCheck, settings

from kiosk.backend import contract, signing
from kiosk.sim.backend.routes import KEYED, ROUTES, UNSIGNED

TERMINAL, SECRET = "T-CONTRACT", b"contract-secret"
SPEC = Path(contract.__file__).with_name("openapi.yaml")
schema = schemathesis.openapi.from_path(SPEC)


HEADERS = (signing.H_TERMINAL, signing.H_TIMESTAMP, signing.H_NONCE, signing.H_SIGNATURE)


class Signed(requests.auth.AuthBase):
    """Signs the request exactly as sent (final body bytes, path with query), like the client.

    Only requests that carry all four placeholder headers are signed: when schemathesis leaves
    one out on purpose (a negative case), the request goes out that way and must be refused.
    """

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if not all(h in r.headers for h in HEADERS):
            return r
        body = r.body or b""
        if isinstance(body, str):
            body = body.encode()
        split = urlsplit(r.url)
        path = split.path + (f"?{split.query}" if split.query else "")
        key = r.headers.get(signing.H_IDEMPOTENCY, "")
        r.headers.update(
            signing.sign_headers(TERMINAL, SECRET, r.method, path, body, idempotency_key=key)
        )
        return r


@schema.auth()
class _SignatureHeaders:
    """Tells schemathesis the signature headers are taken care of (so it does not test them as
    missing); the real values are computed by ``Signed`` on the final bytes."""

    def get(self, case, context):
        return "placeholder"

    def set(self, case, data, context):
        case.headers = dict(case.headers or {})
        for header in HEADERS:
            case.headers[header] = data


def test_openapi_yaml_is_generated_from_the_models():
    assert SPEC.read_text(encoding="utf-8") == contract.render(), (
        "run: python -m kiosk.backend.contract"
    )


def test_every_route_is_in_the_contract_and_back():
    documented = {(op.method, op.path) for op in contract.OPS}
    assert documented == set(ROUTES)
    assert {(op.method, op.path) for op in contract.OPS if not op.signed} == UNSIGNED
    assert {(op.method, op.path) for op in contract.OPS if op.keyed} == KEYED


def test_no_personal_data_in_any_url():
    for op in contract.OPS:
        assert "{" not in op.path, f"{op.path}: no path parameters (IDs belong in signed bodies)"
        assert set(op.query) <= {"code"}, op.path


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_reference_backend_follows_the_contract(case, backend):
    case.call_and_validate(base_url=backend.url, auth=Signed(), timeout=10)
