"""Console accounts: argon2 password hashes, roles, lock-out, sessions, and the audit trail.

Two roles: ``technician`` (the fleet and its remote commands) and ``supervisor`` (that, plus
好差评 follow-up, exports and the audit trail). Five wrong passwords in a row lock the account
for 15 minutes, in the database, so every gateway process and a restart agree. A session is a
random token in an HttpOnly cookie; the database keeps only its hash, with a CSRF token, and
it ends after ``SESSION_IDLE_S`` without use or ``SESSION_MAX_S`` after login.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, insert, select, update

from kiosk.gateway import schema as s

ROLES = ("technician", "supervisor")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
MIN_PASSWORD = 10
MAX_FAILURES = 5
LOCK_S = 15 * 60.0
SESSION_IDLE_S = 30 * 60.0
SESSION_MAX_S = 12 * 3600.0

_hasher = PasswordHasher()  # argon2id with the library's current defaults
#: checked when the username is unknown, so a wrong name costs as long as a wrong password
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class AccountError(ValueError):
    """A bad username, role or password when creating an account."""


@dataclass(frozen=True)
class User:
    username: str
    role: str
    display_name: str

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    token_hash: str


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(conn: Connection, username: str, password: str, role: str, display_name: str = "") -> None:
    if not USERNAME.fullmatch(username or ""):
        raise AccountError("username: 2-32 of a-z 0-9 . _ -, starting with a letter or digit")
    if role not in ROLES:
        raise AccountError(f"role: one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password: at least {MIN_PASSWORD} characters")
    values = {"password_hash": _hasher.hash(password), "role": role, "active": True,
              "failures": 0, "locked_until": 0.0}
    if display_name:
        values["display_name"] = display_name
    found = conn.execute(select(s.users.c.username).where(s.users.c.username == username)).first()
    if found is None:
        conn.execute(insert(s.users).values(username=username, created_at=time.time(),
                                            **{"display_name": "", **values}))
    else:
        conn.execute(update(s.users).where(s.users.c.username == username).values(**values))
        conn.execute(delete(s.sessions).where(s.sessions.c.username == username))


def login(conn: Connection, username: str, password: str, *, now: float) -> tuple[str, Any]:
    """("ok", (token, Session)) | ("locked", seconds left) | ("wrong", failures left)."""
    row = conn.execute(select(s.users).where(s.users.c.username == username)).first()
    if row is None or not row.active:
        try:
            _hasher.verify(_DUMMY_HASH, password or "-")
        except VerificationError:
            pass
        return "wrong", None
    if row.locked_until > now:
        return "locked", int(row.locked_until - now) + 1
    try:
        _hasher.verify(row.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        failures = row.failures + 1
        locked = now + LOCK_S if failures >= MAX_FAILURES else 0.0
        conn.execute(update(s.users).where(s.users.c.username == username).values(
            failures=0 if locked else failures, locked_until=locked))
        return ("locked", int(LOCK_S)) if locked else ("wrong", MAX_FAILURES - failures)
    values: dict[str, Any] = {"failures": 0, "locked_until": 0.0, "last_login": now}
    if _hasher.check_needs_rehash(row.password_hash):
        values["password_hash"] = _hasher.hash(password)
    conn.execute(update(s.users).where(s.users.c.username == username).values(**values))
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    conn.execute(delete(s.sessions).where(s.sessions.c.expires_at < now))
    conn.execute(insert(s.sessions).values(token_hash=_token_hash(token), username=username, csrf=csrf,
                                           created_at=now, last_seen=now, expires_at=now + SESSION_MAX_S))
    user = User(row.username, row.role, row.display_name or row.username)
    return "ok", (token, Session(user, csrf, _token_hash(token)))


def session(conn: Connection, token: str, *, now: float, idle_s: float = SESSION_IDLE_S) -> Session | None:
    if not token or len(token) > 128:
        return None
    q = select(s.sessions, s.users.c.role, s.users.c.display_name, s.users.c.active).join(
        s.users, s.users.c.username == s.sessions.c.username
    ).where(s.sessions.c.token_hash == _token_hash(token))
    row = conn.execute(q).first()
    if row is None or not row.active:
        return None
    if row.expires_at <= now or now - row.last_seen > idle_s:
        conn.execute(delete(s.sessions).where(s.sessions.c.token_hash == row.token_hash))
        return None
    if now - row.last_seen > 30:  # not a write for every page
        conn.execute(update(s.sessions).where(s.sessions.c.token_hash == row.token_hash).values(last_seen=now))
    return Session(User(row.username, row.role, row.display_name or row.username), row.csrf, row.token_hash)


def logout(conn: Connection, token_hash: str) -> None:
    conn.execute(delete(s.sessions).where(s.sessions.c.token_hash == token_hash))


def record(conn: Connection, username: str, action: str, target: str = "", detail: str = "",
           outcome: str = "ok", ip: str = "") -> None:
    conn.execute(insert(s.audit).values(ts=time.time(), username=username[:64], action=action,
                                        target=target[:200], detail=detail[:1000], outcome=outcome,
                                        ip=ip[:64]))


def trail(conn: Connection, limit: int = 300) -> list[Any]:
    return conn.execute(select(s.audit).order_by(s.audit.c.id.desc()).limit(limit)).all()
