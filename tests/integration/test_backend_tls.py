"""TLS to the backend: verification is on, a pinned CA bundle is honoured, anything else fails
clearly (and retryably, so the outbox keeps its rows until the certificate is fixed)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from kiosk.backend.client import BackendClient
from kiosk.errors import BackendUnavailableError
from kiosk.sim.backend import ReferenceBackend
from kiosk.sim.demo_data import BY_KEY

TERMINAL, SECRET = "T-TLS", b"tls-secret"
pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def _ca(d: Path, name: str) -> None:
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        f"{name}.key",
        "-out",
        f"{name}.pem",
        "-days",
        "2",
        "-subj",
        f"/CN={name}",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
        cwd=d,
    )


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("pki")
    _ca(d, "pinned-ca")
    _ca(d, "other-ca")
    _openssl(
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
        cwd=d,
    )
    (d / "ext.cnf").write_text(
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
    )
    _openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "pinned-ca.pem",
        "-CAkey",
        "pinned-ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        cwd=d,
    )
    return d


@pytest.fixture(scope="module")
def backend(pki, tmp_path_factory):
    b = ReferenceBackend(tmp_path_factory.mktemp("ref"), {TERMINAL: SECRET})
    b.start(tls_cert=pki / "server.pem", tls_key=pki / "server.key")
    yield b
    b.close()


def test_pinned_ca_is_trusted(backend, pki):
    assert backend.url.startswith("https://127.0.0.1:")
    with BackendClient(backend.url, TERMINAL, SECRET, ca_bundle=pki / "pinned-ca.pem") as c:
        assert c.health()["status"] == "ok"
        assert c.insurance_info(BY_KEY["wang_jianguo"].id_number)["insured"] is True


@pytest.mark.parametrize("bundle", [None, "other-ca.pem"])
def test_an_untrusted_certificate_is_refused(backend, pki, bundle):
    ca = pki / bundle if bundle else None
    with BackendClient(
        backend.url, TERMINAL, SECRET, ca_bundle=ca, connect_timeout=2, read_timeout=2
    ) as c:
        with pytest.raises(BackendUnavailableError, match="TLS") as e:
            c.health()
    assert e.value.retryable is True


def test_plain_http_to_a_tls_server_fails_in_bounded_time(backend):
    url = backend.url.replace("https://", "http://")
    with BackendClient(url, TERMINAL, SECRET, connect_timeout=1, read_timeout=1) as c:
        with pytest.raises(BackendUnavailableError):
            c.health()
