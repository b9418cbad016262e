"""The contract cannot drift: openapi.yaml is FastAPI's document of the gateway's routes and
models, and the running gateway answers what it says (schemathesis, bounded examples, signed
requests)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings

from kiosk.backend import contract, signing
from kiosk.gateway import api
from kiosk.sim.backend import ReferenceBackend

TERMINAL, SECRET = "T-CONTRACT", b"contract-secret"
SPEC = Path(contract.__file__).with_name("openapi.yaml")


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


class _SignatureHeaders:
    """Tells schemathesis the signature headers are taken care of (so it does not test them as
    missing); the real values are computed by ``Signed`` on the final bytes."""

    def get(self, case, context):
        return "placeholder"

    def set(self, case, data, context):
        case.headers = dict(case.headers or {})
        for header in HEADERS:
            case.headers[header] = data


@pytest.fixture(scope="module")
def contract_schema():
    """The contract as schemathesis reads it, loaded when the test runs: built at collection,
    its tests work out the coverage examples of all 35 operations (~7 s of CPU) in every
    pytest-xdist worker, not only in the one that runs them."""
    loaded = schemathesis.openapi.from_path(SPEC)
    loaded.auth()(_SignatureHeaders)
    return loaded


schema = schemathesis.pytest.from_fixture("contract_schema")


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    b = ReferenceBackend(tmp_path_factory.mktemp("ref"), {TERMINAL: SECRET})
    b.start()
    yield b
    b.close()


def test_openapi_yaml_is_generated_from_the_models():
    assert SPEC.read_text(encoding="utf-8") == contract.render(), (
        "run: python -m kiosk.backend.contract"
    )


def _operations():
    doc = contract.build()
    for path, methods in doc["paths"].items():
        for method, entry in methods.items():
            yield method.upper(), path, entry


def test_every_route_is_in_the_contract_and_back():
    documented = {(method, path) for method, path, _ in _operations()}
    assert documented == set(api.OPS)
    unsigned = {(method, path) for method, path, e in _operations() if e["security"] == []}
    assert unsigned == {k for k, op in api.OPS.items() if not op.signed}
    assert unsigned == {("GET", "/v1/health"), ("GET", "/v1/certificates/verify"), ("GET", "/v1/applications/track")}
    keyed = {(method, path) for method, path, e in _operations()
             if any(p["name"] == "Idempotency-Key" and p["required"] for p in e.get("parameters", []))}
    assert keyed == {k for k, op in api.OPS.items() if op.keyed}
    assert all(method == "POST" for method, _path in keyed)


def test_no_personal_data_in_any_url():
    for _method, path, entry in _operations():
        assert "{" not in path, f"{path}: no path parameters (IDs belong in signed bodies)"
        query = {p["name"] for p in entry.get("parameters", []) if p["in"] == "query"}
        assert query <= {"code"}, path


def test_every_error_answer_is_the_one_shape():
    for method, path, entry in _operations():
        for status, answer in entry["responses"].items():
            if int(status) >= 400:
                ref = answer["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorEnvelope"), (method, path, status)


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_reference_backend_follows_the_contract(case, backend):
    case.call_and_validate(base_url=backend.url, auth=Signed(), timeout=10)
