"""The gateway tried as an attacker would: unsigned, stale, replayed, unknown, oversized,
deeply nested, huge numbers, chunked tricks, slow clients. Each is refused in the one error
shape and never "retryable"; nothing reaches the platform or the database.

Raw sockets where the trick is below HTTP libraries (chunked bodies, smuggling, slowloris).
"""

from __future__ import annotations

import json
import socket
import time

import pytest
import requests

from kiosk.backend import signing
from kiosk.errors import ConfigError
from kiosk.gateway.server import Limits, Server, check_bind
from kiosk.sim.demo_data import BY_KEY
from tests.gateway.conftest import SECRET, TERMINAL

WANG = BY_KEY["wang_jianguo"].id_number
PATH = "/v1/residents/insurance"


def _signed(body: bytes, path: str = PATH, key: str = "", **kw) -> dict[str, str]:
    headers = signing.sign_headers(TERMINAL, SECRET, "POST", path, body, idempotency_key=key, **kw)
    return {**headers, "Content-Type": "application/json"}


def _post(gateway, body: bytes, headers: dict, path: str = PATH) -> requests.Response:
    return requests.post(gateway.url + path, data=body, headers=headers, timeout=10)


def _refused(r: requests.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code and err["retryable"] is False, err


def _raw(gateway, data: bytes, *, read_s: float = 10.0) -> bytes:
    host, port = gateway.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=read_s) as s:
        s.sendall(data)
        chunks = []
        try:
            while True:
                got = s.recv(65536)
                if not got:
                    break
                chunks.append(got)
        except TimeoutError:
            pass
    return b"".join(chunks)


def test_unsigned_unknown_bad_stale_and_replayed_are_refused(gateway):
    body = json.dumps({"id_number": WANG}).encode()
    _refused(_post(gateway, body, {"Content-Type": "application/json"}), 401, "unsigned")
    stranger = signing.sign_headers("T-STRANGER", SECRET, "POST", PATH, body)
    _refused(_post(gateway, body, stranger), 401, "unknown_terminal")
    _refused(_post(gateway, body, _signed(body, now=time.time() - 3600)), 401, "stale_timestamp")
    _refused(_post(gateway, body, _signed(body, now=time.time() + 3600)), 401, "stale_timestamp")
    good = _signed(body)
    assert _post(gateway, body, good).status_code == 200
    _refused(_post(gateway, body, good), 401, "replayed_nonce")
    forged = dict(good, **{signing.H_NONCE: "another-nonce-1234"})
    _refused(_post(gateway, body, forged), 401, "bad_signature")


def test_a_revoked_terminal_is_refused(gateway):
    body = json.dumps({"id_number": WANG}).encode()
    del gateway.terminals[TERMINAL]
    _refused(_post(gateway, body, _signed(body)), 401, "unknown_terminal")


def test_a_gateway_has_no_built_in_secret(tmp_path):
    from kiosk.sim.backend import ReferenceBackend

    with ReferenceBackend(tmp_path / "p") as backend:
        assert len(backend.terminals) == 0
        body = json.dumps({"id_number": WANG}).encode()
        for terminal, secret in (("NY-370921-0001", b"demo-terminal-secret-change-me"), (TERMINAL, SECRET)):
            headers = signing.sign_headers(terminal, secret, "POST", PATH, body)
            _refused(_post(backend, body, headers), 401, "unknown_terminal")


def test_an_oversized_body_is_refused_before_it_is_read(gateway):
    body = b'{"id_number": "' + b"1" * (200 * 1024) + b'"}'
    r = _post(gateway, body, _signed(body))
    _refused(r, 413, "request_too_large")
    # declared but never sent: the gateway answers at once instead of waiting for 10 MB
    head = (f"POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {10 * 1024 * 1024}\r\n\r\n").encode()
    t0 = time.monotonic()
    answer = _raw(gateway, head + b"{")
    assert b" 413 " in answer.split(b"\r\n", 1)[0] and time.monotonic() - t0 < 5


def test_an_oversized_chunked_body_is_refused_at_the_limit(gateway):
    chunk = b"a" * 8192
    # past the limit, and not ended: the gateway must not wait for the end to refuse it
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(9))
    answer = _raw(gateway, f"POST {PATH} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode() + body)
    assert b" 413 " in answer.split(b"\r\n", 1)[0]
    assert b'"retryable": false' in answer


@pytest.mark.parametrize(("body", "code"), [
    (b'{"id_number": ' + b"[" * 5000 + b"]" * 5000 + b"}", "too_deep"),
    (b'{"id_number": ' + b"[" * 40 + b"]" * 40 + b"}", "too_deep"),
    (b'{"id_number": "370921196207082819", "year": ' + b"9" * 5000 + b"}", "bad_number"),
    (b'{"id_number": "370921196207082819", "year": 1e999}', "bad_number"),
    (b'{"id_number": "370921196207082819", "year": NaN}', "bad_number"),
    (b'{"id_number": "370921196207082819", "year": -Infinity}', "bad_number"),
    (b'{"id_number": "\xff\xfe"}', "malformed_json"),
    (b'["not", "an", "object"]', "malformed_json"),
    (b'{"id_number": "370921196207082819"', "malformed_json"),
])
def test_bodies_that_once_gave_500_retryable_are_refused_for_good(gateway, body, code):
    _refused(_post(gateway, body, _signed(body)), 400, code)


def test_a_huge_number_inside_the_limits_is_still_checked_by_the_model(gateway):
    body = json.dumps({"id_number": WANG, "year": 10**15}).encode()
    _refused(_post(gateway, body, _signed(body, path="/v1/residents/contributions"), "/v1/residents/contributions"),
             422, "invalid_request")


def test_a_chunked_body_is_never_run_as_a_second_request(gateway):
    """The old server ignored Transfer-Encoding and parsed the body as the next request."""
    inner = (b"GET /sim/received?kind=rating HTTP/1.1\r\nHost: x\r\n\r\n")
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(inner), inner)
    answer = _raw(gateway, (f"POST {PATH} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                            "Connection: close\r\n\r\n").encode() + chunked, read_s=5)
    assert answer.count(b"HTTP/1.1 ") == 1  # one request, one answer
    assert b'"unsigned"' in answer


def test_content_length_with_transfer_encoding_is_refused(gateway):
    """Request smuggling: two framings of one body must not both be believed."""
    smuggle = (f"POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
               "0\r\n\r\nGET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n").encode()
    answer = _raw(gateway, smuggle, read_s=5)
    assert answer.startswith(b"HTTP/1.1 400")
    assert answer.count(b"HTTP/1.1 ") == 1


def test_a_write_without_a_good_idempotency_key_is_refused(gateway):
    body = json.dumps({"id_number": WANG, "kind": "contribution_proof"}).encode()
    _refused(_post(gateway, body, _signed(body, path="/v1/certificates"), "/v1/certificates"), 400,
             "idempotency_key_required")
    bad = "key with spaces"
    _refused(_post(gateway, body, _signed(body, path="/v1/certificates", key=bad) | {"Idempotency-Key": bad},
                   "/v1/certificates"), 400, "bad_idempotency_key")


def test_a_slowloris_client_is_cut_off_and_others_are_served(tmp_path):
    """Clients that trickle their request head a byte every 0.2 s, forever, lose their
    connection at the head deadline (1 s here); meanwhile a normal client is served. The test
    is bounded: it gives up after 10 s."""
    from kiosk.sim.backend import ReferenceBackend

    backend = ReferenceBackend(tmp_path / "p", {TERMINAL: SECRET})
    backend.start(limits=Limits(head_timeout_s=1.0, body_timeout_s=1.0, threads=4))
    host, port = backend.url.removeprefix("http://").rsplit(":", 1)
    slow = []
    try:
        for _ in range(50):
            s = socket.create_connection((host, int(port)), timeout=5)
            s.sendall(b"POST /v1/residents/insurance HTTP/1.1\r\nHost: x\r\n")
            s.setblocking(False)
            slow.append(s)
        assert requests.get(backend.url + "/v1/health", timeout=5).json()["status"] == "ok"
        open_ = set(range(len(slow)))
        deadline = time.monotonic() + 10
        while open_ and time.monotonic() < deadline:
            for n in list(open_):
                try:
                    if slow[n].recv(1) == b"":
                        open_.discard(n)
                        continue
                except BlockingIOError:
                    pass
                except OSError:
                    open_.discard(n)
                    continue
                try:
                    slow[n].send(b"X")
                except OSError:
                    open_.discard(n)
            time.sleep(0.2)
        assert open_ == set(), f"{len(open_)} slow clients still connected after 10 s"
        assert requests.get(backend.url + "/v1/health", timeout=5).json()["status"] == "ok"
    finally:
        for s in slow:
            s.close()
        backend.close()


def test_connections_over_the_cap_are_closed_at_once(tmp_path):
    from kiosk.sim.backend import ReferenceBackend

    backend = ReferenceBackend(tmp_path / "p", {TERMINAL: SECRET})
    backend.start(limits=Limits(max_connections=20, head_timeout_s=30, threads=4))
    host, port = backend.url.removeprefix("http://").rsplit(":", 1)
    held = [socket.create_connection((host, int(port)), timeout=5) for _ in range(20)]
    try:
        for s in held:  # each is accepted: a request on it would be served
            s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert s.recv(12) == b"HTTP/1.1 200"
        extra = socket.create_connection((host, int(port)), timeout=5)
        extra.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            assert extra.recv(100) == b""  # closed without an answer
        except ConnectionResetError:
            pass
        extra.close()
    finally:
        for s in held:
            s.close()
        backend.close()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::"])
def test_plain_http_beyond_loopback_is_refused_unless_allowed(host):
    with pytest.raises(ConfigError, match="refusing to serve plain HTTP"):
        check_bind(host, tls=False, allow_insecure=False)
    check_bind(host, tls=True, allow_insecure=False)
    check_bind(host, tls=False, allow_insecure=True)
    with pytest.raises(ConfigError):
        Server(None, host, 0)


def test_sim_controls_answer_loopback_only_and_unknown_paths_are_404(gateway):
    r = requests.get(gateway.url + "/v1/nope", timeout=5)
    assert r.status_code == 404 and r.json()["error"]["retryable"] is False
    r = requests.delete(gateway.url + "/v1/health", timeout=5)
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"
