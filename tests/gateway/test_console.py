"""The fleet console over real HTTP, on SQLite and PostgreSQL: log-in and lock-out, CSRF,
roles, session expiry, the fleet from heartbeats, commands, 好差评 follow-up, CSV, audit."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import time

import pytest
import requests
from sqlalchemy import update

from kiosk.backend import payloads
from kiosk.gateway import accounts
from kiosk.gateway import schema as s
from tests.gateway.conftest import TERMINAL

PASSWORD = "correct horse battery"


@pytest.fixture
def users(gateway):
    with gateway.gateway_store.write() as conn:
        accounts.create_user(conn, "tech01", PASSWORD, "technician", "李技术员")
        accounts.create_user(conn, "sup01", PASSWORD, "supervisor", "王主管")
    gateway.gateway_store.provision(TERMINAL, b"gateway-test-secret-0001", name="葛石镇便民服务中心", township="葛石镇")
    return gateway


def _csrf(text: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', text).group(1)


def login(gateway, username, password=PASSWORD) -> tuple[requests.Session, requests.Response]:
    web = requests.Session()
    token = _csrf(web.get(gateway.url + "/console/login", timeout=10).text)
    r = web.post(gateway.url + "/console/login", data={"username": username, "password": password, "csrf": token},
                 timeout=10)
    return web, r


def audit_rows(gateway):
    with gateway.gateway_store.read() as conn:
        return [(a.username, a.action, a.outcome) for a in accounts.trail(conn)]


def test_pages_need_a_session_and_log_in_sets_a_strict_cookie(users):
    r = requests.get(users.url + "/console/terminals", allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["location"] == "/console/login"
    web, r = login(users, "tech01")
    assert r.url.endswith("/console/terminals") and "李技术员" in r.text
    cookie = r.history[0].headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    assert r.headers["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert ("tech01", "login", "ok") in audit_rows(users)


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(users):
    for _ in range(4):
        _web, r = login(users, "tech01", "wrong password!")
        assert "用户名或密码错误" in r.text
    _web, r = login(users, "tech01", "wrong password!")
    assert "已锁定" in r.text
    _web, r = login(users, "tech01")  # the right password, during the lock-out
    assert "已锁定" in r.text and "/console/login" in r.url
    with users.gateway_store.write() as conn:  # fifteen minutes later
        conn.execute(update(s.users).where(s.users.c.username == "tech01").values(locked_until=time.time() - 1))
    _web, r = login(users, "tech01")
    assert r.url.endswith("/console/terminals")
    assert [o for u, a, o in audit_rows(users) if a == "login"].count("locked") == 2


def test_an_unknown_user_is_told_the_same_as_a_wrong_password(users):
    _web, r = login(users, "nobody", "whatever password")
    assert "用户名或密码错误" in r.text


def test_a_form_without_the_sessions_csrf_token_does_nothing(users):
    web, _r = login(users, "tech01")
    r = web.post(users.url + f"/console/terminals/{TERMINAL}/commands",
                 data={"csrf": "forged", "kind": "out_of_service"}, timeout=10)
    assert r.status_code == 403
    with users.gateway_store.read() as conn:
        assert conn.execute(s.commands.select()).first() is None
    assert ("tech01", "csrf_refused", "refused") in audit_rows(users)
    other, _r = login(users, "sup01")  # another session's token is no better
    token = _csrf(other.get(users.url + "/console/terminals", timeout=10).text)
    assert web.post(users.url + f"/console/terminals/{TERMINAL}/commands",
                    data={"csrf": token, "kind": "out_of_service"}, timeout=10).status_code == 403


def test_a_session_ends_when_idle_and_at_log_out(users):
    web, _r = login(users, "tech01")
    with users.gateway_store.write() as conn:
        conn.execute(update(s.sessions).values(last_seen=time.time() - accounts.SESSION_IDLE_S - 1))
    r = web.get(users.url + "/console/terminals", allow_redirects=False, timeout=10)
    assert r.status_code == 303
    web, r = login(users, "tech01")
    web.post(users.url + "/console/logout", data={"csrf": _csrf(r.text)}, timeout=10)
    assert web.get(users.url + "/console/terminals", allow_redirects=False, timeout=10).status_code == 303


def test_roles_technicians_cannot_follow_up_export_or_read_the_audit(users):
    web, _r = login(users, "tech01")
    for path in ("/console/audit", "/console/ratings.csv"):
        assert web.get(users.url + path, timeout=10).status_code == 403
    sup, _r = login(users, "sup01")
    assert sup.get(users.url + "/console/audit", timeout=10).status_code == 200


def test_the_fleet_page_shows_heartbeats_and_commands_are_acknowledged(users, client):
    beat = payloads.heartbeat(software_version="0.9.1", devices={"printer": "online", "idcard": "offline"},
                              paper="low", outbox_depth=7, outbox_oldest_s=1800, paper_near_end=True,
                              last_error="BackendUnavailableError: timeout")
    assert client.heartbeat(beat, "hb-1")["commands"] == []
    web, r = login(users, "tech01")
    row = re.search(rf'<tr id="row-{TERMINAL}".*?</tr>', r.text, re.S).group(0)
    assert 'data-state="attention"' in row and "idcard: offline" in row and "near end" in row
    assert "0.9.1" in row and "30 min" in row and "BackendUnavailableError" in row
    page = web.get(users.url + f"/console/terminals/{TERMINAL}", timeout=10).text
    web.post(users.url + f"/console/terminals/{TERMINAL}/commands",
             data={"csrf": _csrf(page), "kind": "reconnect", "device": "idcard"}, timeout=10)
    [command] = client.heartbeat(beat, "hb-2")["commands"]
    assert command["kind"] == "reconnect" and command["args"] == {"device": "idcard"}
    assert client.heartbeat({**beat, "acks": [{"command_id": command["command_id"], "ok": True,
                                               "detail": "idcard reconnected: online"}]}, "hb-3")["commands"] == []
    page = web.get(users.url + f"/console/terminals/{TERMINAL}", timeout=10).text
    assert f'id="command-{command["command_id"]}"' in page and 'data-state="done"' in page
    assert "idcard reconnected: online" in page and "idcard: online -&gt; offline" not in page
    assert "idcard: - -&gt; offline" in page or "first heartbeat" in page
    assert ("tech01", "command", "ok") in audit_rows(users)


def test_a_silent_terminal_turns_offline(users, client):
    client.heartbeat(payloads.heartbeat(software_version="1", devices={}, paper="full", outbox_depth=0), "hb-a")
    web, r = login(users, "tech01")
    assert f'id="row-{TERMINAL}" class="st-ok"' in r.text
    with users.gateway_store.write() as conn:  # its last heartbeat, long ago
        conn.execute(update(s.terminals).values(last_seen=time.time() - 3600))
    r = web.get(users.url + "/console/terminals?state=offline", timeout=10)
    assert f'id="row-{TERMINAL}" class="st-offline"' in r.text
    client.heartbeat(payloads.heartbeat(software_version="1", devices={}, paper="full", outbox_depth=0), "hb-b")
    page = web.get(users.url + f"/console/terminals/{TERMINAL}", timeout=10).text
    assert "back after 60 min" in page


def _rating(n, level, rated_at, reason=""):
    return {"transaction_no": f"T{n:04d}", "area_code": "370921", "item_id": "contribution_proof",
            "item_name": "个人参保缴费证明查询打印", "evaluator_hash": "c" * 64, "evaluator_masked": "370***",
            "satisfaction": level, "reason": reason, "rated_at": rated_at}


def test_bad_ratings_are_listed_overdue_after_15_working_days_and_followed_up(users, client):
    old = (dt.datetime.now() - dt.timedelta(days=40)).astimezone().isoformat(timespec="seconds")
    new = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    client.deliver("rating", _rating(1, 1, old, "=HYPERLINK(\"x\")等待时间长"), "r1")
    client.deliver("rating", _rating(2, 2, new, "操作复杂"), "r2")
    client.deliver("rating", _rating(3, 5, new), "r3")
    client.deliver("rating", _rating(4, "not_rated", new), "r4")
    sup, r = login(users, "sup01")
    page = sup.get(users.url + "/console/ratings?state=open", timeout=10).text
    rows = dict(re.findall(r'<tr id="bad-(\d+)" class="(\w*)"', page))
    assert sorted(rows.values()) == ["", "overdue"]  # the 40-day-old one is past its 15 working days
    assert "超期 1 overdue" in page
    summary = re.search(r'<table class="grid" id="summary">.*?</table>', page, re.S).group(0)
    assert "<td>4</td>" in summary and "33.3%" in summary  # 4 ratings, 3 rated, 1 of them satisfied
    recent = sup.get(users.url + f"/console/ratings?start={dt.date.today() - dt.timedelta(days=7)}", timeout=10).text
    assert "<td>3</td>" in re.search(r'id="summary">.*?</table>', recent, re.S).group(0)  # by when rated
    overdue_id = next(k for k, v in rows.items() if v == "overdue")
    today = dt.date.today().isoformat()
    sup.post(users.url + f"/console/ratings/{overdue_id}/follow-up",
             data={"csrf": _csrf(page), "on": today, "note": "已电话回访，优化排队"}, timeout=10)
    page = sup.get(users.url + "/console/ratings?state=done", timeout=10).text
    assert f'id="bad-{overdue_id}"' in page and "已电话回访，优化排队" in page and "sup01" in page
    assert "超期 1 overdue" not in page
    export = sup.get(users.url + "/console/ratings.csv", timeout=10)
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert len(rows) == 4 and {r["satisfaction"] for r in rows} == {"1", "2", "5", ""}
    assert any(r["reason"].startswith("'=HYPERLINK") for r in rows)  # not a formula in a spreadsheet
    assert [r["followup_note"] for r in rows if r["followed_up_on"]] == ["已电话回访，优化排队"]
    actions = [a for _u, a, _o in audit_rows(users)]
    assert "rating_follow_up" in actions and "ratings_export" in actions


def test_a_follow_up_dated_in_the_future_or_without_a_note_is_refused(users, client):
    client.deliver("rating", _rating(9, 1, dt.datetime.now().astimezone().isoformat(timespec="seconds")), "r9")
    sup, r = login(users, "sup01")
    page = sup.get(users.url + "/console/ratings", timeout=10).text
    rid = re.search(r'<tr id="bad-(\d+)"', page).group(1)
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    assert sup.post(users.url + f"/console/ratings/{rid}/follow-up",
                    data={"csrf": _csrf(page), "on": tomorrow, "note": "x"}, timeout=10).status_code == 400
    assert sup.post(users.url + f"/console/ratings/{rid}/follow-up",
                    data={"csrf": _csrf(page), "on": dt.date.today().isoformat(), "note": "  "},
                    timeout=10).status_code == 400
