"""The fleet console's pages (server-rendered, Chinese with English) under ``/console``.

Every page needs a session (``accounts.session``); every form posts its session's CSRF token,
checked before anything is done; every action (log-in, log-out, command, follow-up, export,
download) is written to the audit trail with who, what, the outcome and the address. Pages
carry headers that keep them out of frames and caches.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from kiosk.backend import models as m
from kiosk.gateway import accounts, fleet, ratings
from kiosk.gateway import schema as s

router = APIRouter(prefix="/console", include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
COOKIE = "kiosk_console"
LOGIN_COOKIE = "kiosk_login"
HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'",
}
STATES = {"ok": "正常 OK", "attention": "需处理 Attention", "out_of_service": "暂停服务 Out of service",
          "offline": "离线 Offline"}
DEVICE_NAMES = {"idcard": "身份证阅读器 ID card", "sscard": "社保卡读卡器 SS card", "printer": "打印机 Printer",
                "ratingpad": "评价器 Rating pad", "a4printer": "A4打印机 A4 printer"}


def _when(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else "-"


def _ago(ts: float | None) -> str:
    if not ts:
        return "从未 never"
    s_ = max(0, int(time.time() - ts))
    if s_ < 60:
        return f"{s_} 秒前 / {s_} s ago"
    if s_ < 3600:
        return f"{s_ // 60} 分钟前 / {s_ // 60} min ago"
    if s_ < 86400:
        return f"{s_ // 3600} 小时前 / {s_ // 3600} h ago"
    return f"{s_ // 86400} 天前 / {s_ // 86400} d ago"


def _age(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


templates.env.filters.update(when=_when, ago=_ago, age=_age)
templates.env.globals.update(STATES=STATES, DEVICE_NAMES=DEVICE_NAMES, COMMAND_KINDS=m.COMMAND_KINDS,
                             LEVELS_ZH=ratings.LEVELS_ZH, LEVELS_EN=ratings.LEVELS_EN)


class Redirect(Exception):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


class Refused(Exception):
    def __init__(self, status: int, zh: str, en: str) -> None:
        super().__init__(en)
        self.status, self.zh, self.en = status, zh, en


def gw(request: Request) -> Any:
    return request.app.state.gateway


def _ip(request: Request) -> str:
    return request.client.host if request.client else ""


def current(request: Request, *, supervisor: bool = False) -> accounts.Session:
    with gw(request).store.write() as conn:
        sess = accounts.session(conn, request.cookies.get(COOKIE, ""), now=time.time())
    if sess is None:
        raise Redirect("/console/login")
    if supervisor and not sess.user.is_supervisor:
        raise Refused(403, "此操作需要主管权限", "This needs a supervisor's account")
    return sess


def checked(request: Request, csrf: str, *, supervisor: bool = False) -> accounts.Session:
    """The session of a form post, with its CSRF token checked first."""
    sess = current(request, supervisor=supervisor)
    if not hmac.compare_digest(csrf.encode(), sess.csrf.encode()):
        with gw(request).store.write() as conn:
            accounts.record(conn, sess.user.username, "csrf_refused", request.url.path, outcome="refused",
                            ip=_ip(request))
        raise Refused(403, "页面已过期，请刷新后重试", "The form has expired: reload the page and try again")
    return sess


def page(request: Request, name: str, sess: accounts.Session | None, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"session": sess, "user": sess.user if sess else None,
                                                      "csrf": sess.csrf if sess else "", **context},
                                      headers=HEADERS)


def audit(request: Request, sess: accounts.Session, action: str, target: str = "", detail: str = "",
          outcome: str = "ok") -> None:
    with gw(request).store.write() as conn:
        accounts.record(conn, sess.user.username, action, target, detail, outcome, _ip(request))


def back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=HEADERS)


# --- log-in ------------------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, error: str = "") -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = page(request, "login.html", None, login_csrf=token, error=error[:200])
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", path="/console",
                        secure=gw(request).secure_cookies, max_age=3600)
    return response


@router.post("/login")
def login(request: Request, username: str = Form(max_length=64), password: str = Form(max_length=256),
          csrf: str = Form(max_length=128)) -> Response:
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(csrf.encode(), expected.encode()):
        return back("/console/login?error=expired")
    now = time.time()
    with gw(request).store.write() as conn:
        result, value = accounts.login(conn, username, password, now=now)
        outcome = {"ok": "ok", "wrong": "refused", "locked": "locked"}[result]
        accounts.record(conn, username if result != "wrong" or value is not None else f"?{username}"[:64],
                        "login", detail={"ok": "", "wrong": "wrong password", "locked": "account locked"}[result],
                        outcome=outcome, ip=_ip(request))
    if result != "ok":
        return back(f"/console/login?error={result}")
    token, _sess = value
    response = back("/console/terminals")
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/console",
                        secure=gw(request).secure_cookies, max_age=int(accounts.SESSION_MAX_S))
    response.delete_cookie(LOGIN_COOKIE, path="/console")
    return response


@router.post("/logout")
def logout(request: Request, csrf: str = Form(max_length=128)) -> Response:
    sess = checked(request, csrf)
    with gw(request).store.write() as conn:
        accounts.logout(conn, sess.token_hash)
        accounts.record(conn, sess.user.username, "logout", ip=_ip(request))
    response = back("/console/login")
    response.delete_cookie(COOKIE, path="/console")
    return response


# --- the fleet ---------------------------------------------------------------------------------


@router.get("")
@router.get("/")
def home(request: Request) -> Response:
    return back("/console/terminals")


@router.get("/terminals")
def terminals(request: Request, township: str = "", state: str = "") -> HTMLResponse:
    sess = current(request)
    g = gw(request)
    with g.store.read() as conn:
        rows = fleet.terminals(conn, now=time.time(), offline_after_s=g.offline_after_s,
                               township=township[:100], state=state if state in STATES else "")
        towns = fleet.townships(conn)
        everything = fleet.terminals(conn, now=time.time(), offline_after_s=g.offline_after_s)
    counts = {k: sum(1 for v in everything if v.state == k) for k in STATES}
    return page(request, "terminals.html", sess, rows=rows, towns=towns, township=township, state=state,
                counts=counts, total=len(everything), offline_after_s=g.offline_after_s)


@router.get("/terminals/{terminal_id}")
def terminal(request: Request, terminal_id: str) -> HTMLResponse:
    sess = current(request)
    g = gw(request)
    with g.store.read() as conn:
        view = fleet.terminal(conn, terminal_id, now=time.time(), offline_after_s=g.offline_after_s)
        if view is None:
            raise Refused(404, "没有这台终端", "No such terminal")
        history = fleet.history(conn, terminal_id)
        cmds = fleet.commands_of(conn, terminal_id)
        bundles = fleet.diagnostics_of(conn, terminal_id)
    return page(request, "terminal.html", sess, t=view, history=history, commands=cmds, bundles=bundles,
                devices=sorted(view.devices) or sorted(DEVICE_NAMES))


@router.post("/terminals/{terminal_id}/commands")
def send_command(request: Request, terminal_id: str, csrf: str = Form(max_length=128),
                 kind: str = Form(max_length=32), device: str = Form("", max_length=32),
                 text_zh: str = Form("", max_length=120), text_en: str = Form("", max_length=120)) -> Response:
    sess = checked(request, csrf)
    if kind not in m.COMMAND_KINDS:
        raise Refused(400, "未知指令", "Unknown command")
    args: dict[str, str] = {}
    if kind == "reconnect":
        if not device:
            raise Refused(400, "请选择设备", "Choose a device")
        args["device"] = device
    if kind == "notice":
        args = {"text_zh": text_zh.strip(), "text_en": text_en.strip()}
    with gw(request).store.write() as conn:
        if fleet.terminal(conn, terminal_id, now=time.time(), offline_after_s=1) is None:
            raise Refused(404, "没有这台终端", "No such terminal")
        cid = fleet.add_command(conn, terminal_id, kind, args, sess.user.username)
        accounts.record(conn, sess.user.username, "command", terminal_id, f"#{cid} {kind} {args}".strip(),
                        ip=_ip(request))
    return back(f"/console/terminals/{terminal_id}#commands")


@router.post("/commands/{command_id}/cancel")
def cancel_command(request: Request, command_id: int, csrf: str = Form(max_length=128)) -> Response:
    sess = checked(request, csrf)
    with gw(request).store.write() as conn:
        row = conn.execute(select(s.commands.c.terminal_id).where(s.commands.c.id == command_id)).first()
        if row is None:
            raise Refused(404, "没有这条指令", "No such command")
        done = fleet.cancel_command(conn, command_id)
        accounts.record(conn, sess.user.username, "command_cancel", row.terminal_id, f"#{command_id}",
                        "ok" if done else "refused", _ip(request))
    return back(f"/console/terminals/{row.terminal_id}#commands")


@router.get("/diagnostics/{bundle_id}")
def download(request: Request, bundle_id: int) -> Response:
    sess = current(request)
    with gw(request).store.read() as conn:
        row = conn.execute(select(s.diagnostics).where(s.diagnostics.c.id == bundle_id)).first()
    if row is None:
        raise Refused(404, "没有这个诊断包", "No such bundle")
    audit(request, sess, "diagnostics_download", row.terminal_id, row.name)
    return Response(row.data, media_type="application/zip", headers={
        **HEADERS, "Content-Disposition": f'attachment; filename="{row.name}"'})


# --- 好差评 --------------------------------------------------------------------------------------


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


@router.get("/ratings")
def ratings_page(request: Request, by: str = "item", start: str = "", end: str = "", state: str = "open") -> HTMLResponse:
    sess = current(request)
    by = by if by in ("item", "terminal") else "item"
    state = state if state in ("open", "overdue", "done", "all") else "open"
    d0, d1 = _date(start), _date(end)
    today = dt.date.today()
    with gw(request).store.read() as conn:
        summary = ratings.summary(conn, by, d0, d1)
        bad = ratings.bad_list(conn, today=today, state="" if state == "all" else state, start=d0, end=d1)
        overdue = len(ratings.bad_list(conn, today=today, state="overdue"))
    return page(request, "ratings.html", sess, summary=summary, bad=bad, by=by, start=start, end=end,
                state=state, today=today, overdue=overdue)


@router.post("/ratings/{rating_id}/follow-up")
def follow_up(request: Request, rating_id: int, csrf: str = Form(max_length=128),
              note: str = Form(max_length=1000), on: str = Form(max_length=10)) -> Response:
    sess = checked(request, csrf, supervisor=True)
    day = _date(on)
    if day is None or day > dt.date.today() or not note.strip():
        raise Refused(400, "请填写回访日期和处理情况", "Give the follow-up date (not in the future) and a note")
    with gw(request).store.write() as conn:
        done = ratings.follow_up(conn, rating_id, by=sess.user.username, on=day, note=note.strip())
        accounts.record(conn, sess.user.username, "rating_follow_up", f"rating #{rating_id}",
                        f"{day} {note.strip()}", "ok" if done else "refused", _ip(request))
    return back("/console/ratings?state=open")


@router.get("/ratings.csv")
def ratings_csv(request: Request, start: str = "", end: str = "") -> Response:
    sess = current(request, supervisor=True)
    with gw(request).store.read() as conn:
        text = ratings.csv_export(conn, _date(start), _date(end))
    audit(request, sess, "ratings_export", detail=f"{start or '-'} .. {end or '-'}")
    name = f"ratings-{start or 'all'}-{end or 'now'}.csv"
    return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8", headers={
        **HEADERS, "Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/audit")
def audit_page(request: Request) -> HTMLResponse:
    sess = current(request, supervisor=True)
    with gw(request).store.read() as conn:
        rows = accounts.trail(conn)
    return page(request, "audit.html", sess, rows=rows)


def install(app: Any) -> None:
    """Add the console to the FastAPI app: its routes, its stylesheet, its two answers."""
    from fastapi.staticfiles import StaticFiles

    app.include_router(router)
    app.mount("/console/static", StaticFiles(directory=str(Path(__file__).with_name("static"))), name="static")

    @app.exception_handler(Redirect)
    async def _redirect(_request: Request, exc: Redirect) -> Response:
        return back(exc.url)

    @app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused) -> Response:
        return templates.TemplateResponse(request, "error.html", {"zh": exc.zh, "en": exc.en, "user": None},
                                          status_code=exc.status, headers=HEADERS)
