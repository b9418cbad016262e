"""Request signing: what the client signs is exactly what the server accepts, and nothing else."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.backend import signing

SECRET = b"s3cret"
SECRETS = {"T1": SECRET}


def _verify(
    headers, method="POST", path="/v1/ratings", body=b'{"a":1}', *, seen=None, now=1_000_000.0
):
    seen = set() if seen is None else seen

    def remember(terminal, nonce, ts):
        if (terminal, nonce) in seen:
            return False
        seen.add((terminal, nonce))
        return True

    return signing.verify(headers, method, path, body, SECRETS.get, remember, now=now)


def _sign(**kw):
    args = {"method": "POST", "path": "/v1/ratings", "body": b'{"a":1}', "now": 1_000_000.0} | kw
    return signing.sign_headers(
        "T1",
        SECRET,
        args["method"],
        args["path"],
        args["body"],
        idempotency_key=kw.get("key", ""),
        now=args["now"],
    )


def test_round_trip_returns_the_terminal():
    assert _verify(_sign()) == "T1"


def test_idempotency_key_is_sent_and_signed():
    h = _sign(key="k-1")
    assert h[signing.H_IDEMPOTENCY] == "k-1"
    assert _verify(h) == "T1"
    h[signing.H_IDEMPOTENCY] = "k-2"  # a different key must not ride on the old signature
    with pytest.raises(signing.SignatureError) as e:
        _verify(h)
    assert e.value.code == "bad_signature"


@pytest.mark.parametrize(
    "change",
    [
        {"body": b'{"a":2}'},
        {"path": "/v1/transactions"},
        {"method": "GET"},
    ],
)
def test_any_change_to_the_request_breaks_the_signature(change):
    h = _sign()
    kwargs = {"method": "POST", "path": "/v1/ratings", "body": b'{"a":1}'} | change
    with pytest.raises(signing.SignatureError) as e:
        _verify(h, kwargs["method"], kwargs["path"], kwargs["body"])
    assert e.value.code == "bad_signature"


def test_wrong_secret_is_refused():
    h = signing.sign_headers("T1", b"other", "POST", "/v1/ratings", b'{"a":1}', now=1_000_000.0)
    with pytest.raises(signing.SignatureError) as e:
        _verify(h)
    assert e.value.code == "bad_signature"


def test_unknown_terminal_and_unsigned_are_refused():
    h = signing.sign_headers("T9", SECRET, "POST", "/v1/ratings", b'{"a":1}', now=1_000_000.0)
    with pytest.raises(signing.SignatureError) as e:
        _verify(h)
    assert e.value.code == "unknown_terminal"
    with pytest.raises(signing.SignatureError) as e:
        _verify({})
    assert e.value.code == "unsigned"


@pytest.mark.parametrize("skew", [-301, 301, 3600])
def test_stale_timestamps_are_refused(skew):
    h = _sign(now=1_000_000.0 + skew)
    with pytest.raises(signing.SignatureError) as e:
        _verify(h, now=1_000_000.0)
    assert e.value.code == "stale_timestamp"


@pytest.mark.parametrize("skew", [-299, 0, 299])
def test_timestamps_inside_the_window_pass(skew):
    assert _verify(_sign(now=1_000_000.0 + skew), now=1_000_000.0) == "T1"


def test_a_replayed_nonce_is_refused():
    seen: set = set()
    h = _sign()
    assert _verify(h, seen=seen) == "T1"
    with pytest.raises(signing.SignatureError) as e:
        _verify(h, seen=seen)
    assert e.value.code == "replayed_nonce"


def test_a_forged_request_does_not_burn_a_nonce():
    seen: set = set()
    h = _sign()
    forged = dict(h, **{signing.H_SIGNATURE: "0" * 64})
    with pytest.raises(signing.SignatureError):
        _verify(forged, seen=seen)
    assert seen == set()
    assert _verify(h, seen=seen) == "T1"


def test_nonces_are_fresh_each_time():
    assert _sign()[signing.H_NONCE] != _sign()[signing.H_NONCE]


_paths = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyz/-_?=&0123456789", min_size=1, max_size=60
).map(lambda p: "/" + p)


@settings(max_examples=200, deadline=None)
@given(
    body=st.binary(max_size=2048), path=_paths, key=st.text(alphabet="abcXYZ019._:-", max_size=40)
)
def test_any_request_signed_verifies_and_any_flipped_byte_does_not(body, path, key):
    h = signing.sign_headers("T1", SECRET, "POST", path, body, idempotency_key=key, now=1_000_000.0)
    assert _verify(h, "POST", path, body) == "T1"
    if body:
        flipped = bytes([body[0] ^ 1]) + body[1:]
        with pytest.raises(signing.SignatureError):
            _verify(h, "POST", path, flipped)
