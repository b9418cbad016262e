"""The client against the reference backend over real loopback HTTP: answers, certificates,
signature checks, and what the backend says it received (Python API and /sim over HTTP)."""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.request

import pytest
import requests

from kiosk.backend import signing
from kiosk.backend.client import BackendClient
from kiosk.errors import BackendError
from kiosk.sim.demo_data import BY_KEY, RESIDENTS

TERMINAL, SECRET = "T-TEST-1", b"test-secret-1"
TODAY = dt.date(2026, 11, 23)


@pytest.fixture
def client(backend):
    c = BackendClient(backend.url, TERMINAL, SECRET, connect_timeout=2, read_timeout=5)
    yield c
    c.close()


def _rating(n: int, satisfaction=5) -> dict:
    return {
        "transaction_no": f"T{n:05d}",
        "area_code": "370921",
        "item_id": "contribution_proof",
        "item_name": "个人参保缴费证明查询打印",
        "evaluator_hash": "a" * 64,
        "evaluator_masked": "370***********2819",
        "satisfaction": satisfaction,
        "indicators": ["01"],
        "reason": "",
        "rated_at": "2026-11-23T17:00:00+08:00",
    }


def test_health(client):
    h = client.health()
    assert h["status"] == "ok" and h["version"]


def test_every_demo_resident_has_consistent_insurance(client):
    for r in RESIDENTS:
        info = client.insurance_info(r.id_number)
        schemes = {s["scheme"] for s in info["schemes"]}
        assert info["insured"] == bool(schemes)
        assert (f"pension_{r.pension}" in schemes) == bool(r.pension)
        assert (f"medical_{r.medical}" in schemes) == bool(r.medical)
        assert r.id_number not in json.dumps(info) and r.name not in json.dumps(
            info, ensure_ascii=False
        )
        if r.retired:
            assert any(
                s["status"] == "receiving"
                for s in info["schemes"]
                if s["scheme"].startswith("pension")
            )


def test_resident_notes_stay_true(client):
    assert client.insurance_info(BY_KEY["chen_ming"].id_number) == {
        "masked_name": "陈*",
        "masked_id": client.insurance_info(BY_KEY["chen_ming"].id_number)["masked_id"],
        "insured": False,
        "schemes": [],
    }
    zhou = client.insurance_info(BY_KEY["zhou_fang"].id_number)
    assert [s["scheme"] for s in zhou["schemes"]] == ["medical_resident"]
    sun = client.insurance_info(BY_KEY["sun_zhiqiang"].id_number)
    assert "pension_flexible" in [s["scheme"] for s in sun["schemes"]]
    liu = client.insurance_info(BY_KEY["liu_yan"].id_number)
    assert liu["masked_name"] == "刘*"  # the rare character survives the round trip as the surname


def test_contributions_by_year_are_deterministic(client, backend):
    wang = BY_KEY["wang_jianguo"]
    latest = client.contributions(wang.id_number)
    assert latest["year"] == TODAY.year == latest["years"][-1]
    assert latest["years"] == sorted(latest["years"]) and len(latest["years"]) > 20
    y2015 = client.contributions(wang.id_number, 2015)
    assert y2015["year"] == 2015
    months = [r["period"] for r in y2015["rows"] if r["scheme"] == "pension_employee"]
    assert months == [f"2015-{m:02d}" for m in range(1, 13)]
    assert all(
        r["personal_fen"] == r["base_fen"] * 8 // 100
        for r in y2015["rows"]
        if r["scheme"] == "pension_employee"
    )
    assert client.contributions(wang.id_number, 2015) == y2015
    assert y2015["total_personal_fen"] == sum(
        r["personal_fen"] for r in y2015["rows"] if r["status"] == "paid"
    )
    # the current month is due, not paid
    assert any(r["status"] == "due" and r["period"] == "2026-11" for r in latest["rows"])


def test_nobody_insured_has_no_contribution_years(client):
    c = client.contributions(BY_KEY["chen_ming"].id_number)
    assert c["years"] == [] and c["rows"] == [] and c["year"] is None


def test_unknown_resident_is_a_backend_error_with_chinese_text(client):
    with pytest.raises(BackendError) as e:
        client.insurance_info("110101199003074514")  # valid check digit, not a demo resident
    assert e.value.code == "resident_not_found"
    assert e.value.retryable is False
    assert "参保" in e.value.message_zh


def test_certificate_has_a_code_and_a_retry_returns_the_same_one(client, backend):
    wang = BY_KEY["wang_jianguo"]
    first = client.certificate(wang.id_number, "contribution_proof", "cert-key-1")
    again = client.certificate(wang.id_number, "contribution_proof", "cert-key-1")
    other = client.certificate(wang.id_number, "contribution_proof", "cert-key-2")
    assert first == again
    assert other["certificate_no"] != first["certificate_no"]
    assert other["verification_code"] != first["verification_code"]
    doc = first["document"]
    assert doc["title"] == "个人参保缴费证明"
    assert doc["holder_masked_id"] == "370***********" + wang.id_number[-4:]
    # the first scheme month by month over its latest year; the holder is the terminal's to print
    assert dict(doc["lines"])["险种"] == "企业职工基本养老保险" and doc["table_header"] == ["年月", "个人缴费", "状态"]
    assert doc["table_rows"] and all(row[0].startswith(doc["table_rows"][0][0][:4]) for row in doc["table_rows"])
    assert "姓名" not in dict(doc["lines"]) and doc["specimen"] is True and doc["issuer"] == "宁阳县社会保险事业中心"
    # the verification page confirms the code without any signature
    check = requests.get(first["verify_url"], timeout=5).json()
    assert check["valid"] is True and check["certificate_no"] == first["certificate_no"]


def test_no_certificate_for_somebody_not_insured(client):
    with pytest.raises(BackendError) as e:
        client.certificate(BY_KEY["chen_ming"].id_number, "contribution_proof", "cert-chen")
    assert e.value.code == "not_insured"


def test_the_same_key_with_a_different_body_is_refused(client):
    client.certificate(BY_KEY["wang_jianguo"].id_number, "contribution_proof", "cert-key-x")
    with pytest.raises(BackendError) as e:
        client.certificate(BY_KEY["feng_wei"].id_number, "contribution_proof", "cert-key-x")
    assert e.value.code == "idempotency_conflict"


def test_delivered_items_are_received_once_and_visible_in_python_and_over_http(client, backend):
    backend.store.clear_received()
    for n in range(3):
        answer = client.deliver("rating", _rating(n), f"rating-{n}")
        assert answer["accepted"] is True and answer["idempotency_key"] == f"rating-{n}"
    client.deliver("rating", _rating(0), "rating-0")  # a resend after a lost answer
    got = backend.received("rating")
    assert [g["idempotency_key"] for g in got] == ["rating-0", "rating-1", "rating-2"]
    assert got[1]["payload"]["transaction_no"] == "T00001" and got[0]["terminal"] == TERMINAL
    with urllib.request.urlopen(f"{backend.url}/sim/received?kind=rating", timeout=5) as resp:
        over_http = json.load(resp)
    assert over_http["count"] == 3 and over_http["items"] == got


def test_invalid_rating_is_refused_not_retryable(client):
    with pytest.raises(BackendError) as e:
        client.deliver("rating", _rating(9, satisfaction=7), "rating-bad")
    assert e.value.code == "invalid_request" and e.value.retryable is False


@pytest.mark.parametrize("field,value", [("satisfaction", True), ("satisfaction", "5"), ("indicators", "01"),
                                         ("area_code", 370921), ("area_code", "٣٧٠٩٢١")])
def test_a_value_of_the_wrong_json_type_or_digits_is_refused_not_coerced(client, field, value):
    body = {**_rating(10), field: value}
    with pytest.raises(BackendError) as e:
        client.deliver("rating", body, f"rating-type-{field}-{type(value).__name__}-{len(str(value))}")
    assert e.value.code == "invalid_request" and field in e.value.message_en


def _post(backend, path, body, headers):
    return requests.post(backend.url + path, data=body, headers=headers, timeout=5)


def test_server_refuses_unsigned_bad_stale_and_replayed_requests(backend):
    body = json.dumps({"id_number": BY_KEY["wang_jianguo"].id_number}).encode()
    path = "/v1/residents/insurance"
    assert _post(backend, path, body, {}).json()["error"]["code"] == "unsigned"
    bad = signing.sign_headers(TERMINAL, b"wrong", "POST", path, body)
    r = _post(backend, path, body, bad)
    assert r.status_code == 401 and r.json()["error"]["code"] == "bad_signature"
    stale = signing.sign_headers(TERMINAL, SECRET, "POST", path, body, now=time.time() - 600)
    assert _post(backend, path, body, stale).json()["error"]["code"] == "stale_timestamp"
    good = signing.sign_headers(TERMINAL, SECRET, "POST", path, body)
    assert _post(backend, path, body, good).status_code == 200
    replay = _post(backend, path, body, good)
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "replayed_nonce"
    tampered = dict(signing.sign_headers(TERMINAL, SECRET, "POST", path, body))
    r = _post(backend, path, body.replace(b"2819", b"2811"), tampered)
    assert r.json()["error"]["code"] == "bad_signature"


def test_every_error_has_the_one_shape(backend):
    for r in (
        requests.get(backend.url + "/v1/nope", timeout=5),
        requests.post(backend.url + "/v1/ratings", data=b"{}", timeout=5),
        requests.get(backend.url + "/v1/ratings", timeout=5),
    ):
        err = r.json()["error"]
        assert set(err) == {"code", "message_zh", "message_en", "retryable"}
        assert r.status_code >= 400


def test_no_personal_data_in_any_url_the_client_uses(backend):
    seen: list[str] = []
    c = BackendClient(backend.url, TERMINAL, SECRET)
    c.session.hooks["response"].append(lambda r, *a, **k: seen.append(r.url))
    wang = BY_KEY["wang_jianguo"]
    c.insurance_info(wang.id_number)
    c.contributions(wang.id_number, 2020)
    c.certificate(wang.id_number, "contribution_proof", "url-check")
    c.close()
    assert len(seen) == 3
    assert not any(wang.id_number in u or wang.phone in u for u in seen)


def test_a_backend_behind_a_path_prefix_gets_a_signature_over_its_full_path():
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: dict = {}

    class Recorder(BaseHTTPRequestHandler):
        def do_POST(self):
            seen["path"] = self.path
            seen["headers"] = dict(self.headers)
            seen["body"] = self.rfile.read(int(self.headers["Content-Length"]))
            data = json.dumps(
                {"masked_name": "王**", "masked_id": "370***", "insured": False, "schemes": []}
            )
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data.encode())))
            self.end_headers()
            self.wfile.write(data.encode())

        def log_message(self, *a):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/zwfw/"
        with BackendClient(url, TERMINAL, SECRET) as c:
            c.insurance_info(BY_KEY["wang_jianguo"].id_number)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert seen["path"] == "/zwfw/v1/residents/insurance"
    terminal = signing.verify(
        seen["headers"], "POST", seen["path"], seen["body"], {TERMINAL: SECRET}.get, lambda *a: True
    )
    assert terminal == TERMINAL
