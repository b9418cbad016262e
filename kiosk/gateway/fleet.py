"""The fleet: what each terminal's heartbeats say, its history, and remote commands.

A heartbeat updates the terminal's row and writes an event for every change worth a line in
its history (a device's status, paper, service, version, error, a return after silence).
Online or offline is not stored: it is the age of the last heartbeat, so a terminal that
stops talking turns offline on the console without anything having to notice it.

Commands wait in ``gw_commands`` until the terminal's next heartbeat, whose answer carries
them; the terminal acknowledges each in a later heartbeat. A command not yet acknowledged is
sent again with every heartbeat (the answer may have been lost); the terminal carries out
each command id once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from kiosk.backend import models as m
from kiosk.gateway import schema as s

#: a terminal whose last heartbeat is older than this is shown offline
OFFLINE_AFTER_S = 180.0
OPEN_COMMAND_STATES = ("pending", "sent")


@dataclass
class TerminalView:
    terminal_id: str
    name: str
    township: str
    online: bool
    last_seen: float | None
    software_version: str
    devices: dict[str, str]
    paper: str
    paper_near_end: bool
    outbox_depth: int
    outbox_oldest_s: int | None
    in_service: bool
    last_error: str
    notice: str
    transactions_today: int = 0

    @property
    def state(self) -> str:
        """One word for filters: offline, fault, out_of_service, ok."""
        if not self.online:
            return "offline"
        if self.faults or self.paper in ("out", "low") or self.paper_near_end:
            return "attention"
        if not self.in_service:
            return "out_of_service"
        return "ok"

    @property
    def faults(self) -> list[str]:
        return [name for name, st in self.devices.items() if st not in ("online", "busy", "no_device")]


def _event(conn: Connection, terminal_id: str, ts: float, kind: str, detail: str) -> None:
    conn.execute(insert(s.events).values(terminal_id=terminal_id, ts=ts, kind=kind, detail=detail[:500]))


def record_heartbeat(
    conn: Connection, terminal_id: str, hb: m.HeartbeatIn, *, offline_after_s: float, now: float
) -> list[dict[str, Any]]:
    """Apply one heartbeat; return the commands to send the terminal."""
    t = s.terminals
    row = conn.execute(select(t).where(t.c.terminal_id == terminal_id)).first()
    if row is not None:
        if row.last_seen is None:
            _event(conn, terminal_id, now, "online", f"first heartbeat, version {hb.software_version}")
        elif now - row.last_seen > offline_after_s:
            gap = int(now - row.last_seen)
            _event(conn, terminal_id, now, "online", f"back after {gap // 60} min {gap % 60} s without heartbeats")
        old_devices = json.loads(row.devices or "{}")
        for name, status in sorted(hb.devices.items()):
            if old_devices.get(name) != status:
                _event(conn, terminal_id, now, "device", f"{name}: {old_devices.get(name, '-')} -> {status}")
        if row.paper != hb.paper or bool(row.paper_near_end) != hb.paper_near_end:
            near = " (near end)" if hb.paper_near_end else ""
            _event(conn, terminal_id, now, "paper", f"{row.paper} -> {hb.paper}{near}")
        if bool(row.in_service) != hb.in_service:
            _event(conn, terminal_id, now, "service", "in service" if hb.in_service else "out of service")
        if row.software_version and row.software_version != hb.software_version:
            _event(conn, terminal_id, now, "version", f"{row.software_version} -> {hb.software_version}")
        if hb.last_error and row.last_error != hb.last_error:
            _event(conn, terminal_id, now, "error", hb.last_error)
    conn.execute(update(t).where(t.c.terminal_id == terminal_id).values(
        last_seen=now, software_version=hb.software_version, devices=json.dumps(hb.devices),
        paper=hb.paper, paper_near_end=hb.paper_near_end, outbox_depth=hb.outbox_depth,
        outbox_oldest_s=hb.outbox_oldest_s, in_service=hb.in_service, last_error=hb.last_error,
    ))
    c = s.commands
    for ack in hb.acks:
        cmd = conn.execute(select(c.c.kind, c.c.args).where(
            c.c.id == ack.command_id, c.c.terminal_id == terminal_id, c.c.state.in_(OPEN_COMMAND_STATES)
        )).first()
        if cmd is None:
            continue  # acknowledged before (a resent heartbeat), or not this terminal's
        conn.execute(update(c).where(c.c.id == ack.command_id).values(
            state="done" if ack.ok else "failed", acked_at=now, result=ack.detail))
        _event(conn, terminal_id, now, "command",
               f"#{ack.command_id} {cmd.kind}: {'done' if ack.ok else 'failed'} {ack.detail}".strip())
        if cmd.kind == "notice" and ack.ok:
            args = json.loads(cmd.args)
            shown = " / ".join(x for x in (args.get("text_zh", ""), args.get("text_en", "")) if x)
            conn.execute(update(t).where(t.c.terminal_id == terminal_id).values(notice=shown))
    waiting = conn.execute(
        select(c.c.id, c.c.kind, c.c.args)
        .where(c.c.terminal_id == terminal_id, c.c.state.in_(OPEN_COMMAND_STATES))
        .order_by(c.c.id).limit(8)
    ).all()
    if waiting:
        conn.execute(update(c).where(c.c.id.in_([w.id for w in waiting])).values(
            state="sent", sent_at=now, sent_count=c.c.sent_count + 1))
    return [{"command_id": w.id, "kind": w.kind, "args": json.loads(w.args)} for w in waiting]


def record_delivery(conn: Connection, kind: str, terminal_id: str, item: Any, now: float) -> None:
    """The console's own tables, filled from what terminals deliver."""
    if kind == "transaction":
        conn.execute(insert(s.transactions).values(
            terminal_id=terminal_id, transaction_no=item.transaction_no, item_id=item.item_id,
            status=item.status, amount_fen=item.amount_fen, ts=now))
    elif kind == "device_event":
        _event(conn, terminal_id, now, "device_event", f"{item.device} {item.kind}: {item.detail}".strip())
    elif kind == "help_request":
        _event(conn, terminal_id, now, "help_request", f"帮办代办 {item.item_name}")
    elif kind == "rating":
        from kiosk.gateway.ratings import record_rating

        record_rating(conn, terminal_id, item, now)


def add_command(conn: Connection, terminal_id: str, kind: str, args: dict[str, str], by: str) -> int:
    if kind not in m.COMMAND_KINDS:
        raise ValueError(f"unknown command {kind!r}")
    now = time.time()
    result = conn.execute(insert(s.commands).values(
        terminal_id=terminal_id, kind=kind, args=json.dumps(args, ensure_ascii=False), state="pending",
        created_at=now, created_by=by, sent_count=0, result=""))
    cid = int(result.inserted_primary_key[0])
    _event(conn, terminal_id, now, "command", f"#{cid} {kind} queued by {by}")
    return cid


def cancel_command(conn: Connection, command_id: int) -> bool:
    c = s.commands
    done = conn.execute(update(c).where(c.c.id == command_id, c.c.state.in_(OPEN_COMMAND_STATES))
                        .values(state="cancelled", acked_at=time.time()))
    return done.rowcount == 1


def _view(row: Any, now: float, offline_after_s: float) -> TerminalView:
    return TerminalView(
        terminal_id=row.terminal_id, name=row.name, township=row.township,
        online=row.last_seen is not None and now - row.last_seen <= offline_after_s,
        last_seen=row.last_seen, software_version=row.software_version,
        devices=json.loads(row.devices or "{}"), paper=row.paper, paper_near_end=bool(row.paper_near_end),
        outbox_depth=row.outbox_depth, outbox_oldest_s=row.outbox_oldest_s,
        in_service=bool(row.in_service), last_error=row.last_error, notice=row.notice,
    )


def start_of_today(now: float) -> float:
    today = dt.datetime.fromtimestamp(now).date()
    return dt.datetime.combine(today, dt.time()).timestamp()


def terminals(
    conn: Connection, *, now: float, offline_after_s: float, township: str = "", state: str = ""
) -> list[TerminalView]:
    t = s.terminals
    q = select(t).where(t.c.active.is_(True)).order_by(t.c.township, t.c.terminal_id)
    if township:
        q = q.where(t.c.township == township)
    views = [_view(r, now, offline_after_s) for r in conn.execute(q)]
    counts = dict(conn.execute(
        select(s.transactions.c.terminal_id, func.count())
        .where(s.transactions.c.ts >= start_of_today(now))
        .group_by(s.transactions.c.terminal_id)
    ).all())
    for v in views:
        v.transactions_today = int(counts.get(v.terminal_id, 0))
    if state:
        views = [v for v in views if v.state == state]
    return views


def terminal(conn: Connection, terminal_id: str, *, now: float, offline_after_s: float) -> TerminalView | None:
    row = conn.execute(select(s.terminals).where(s.terminals.c.terminal_id == terminal_id)).first()
    if row is None:
        return None
    view = _view(row, now, offline_after_s)
    view.transactions_today = int(conn.execute(
        select(func.count()).select_from(s.transactions).where(
            s.transactions.c.terminal_id == terminal_id, s.transactions.c.ts >= start_of_today(now))
    ).scalar_one())
    return view


def townships(conn: Connection) -> list[str]:
    t = s.terminals
    return [r[0] for r in conn.execute(
        select(t.c.township).where(t.c.active.is_(True)).distinct().order_by(t.c.township)) if r[0]]


def history(conn: Connection, terminal_id: str, limit: int = 200) -> list[Any]:
    e = s.events
    return conn.execute(select(e).where(e.c.terminal_id == terminal_id)
                        .order_by(e.c.ts.desc(), e.c.id.desc()).limit(limit)).all()


def commands_of(conn: Connection, terminal_id: str, limit: int = 50) -> list[Any]:
    c = s.commands
    return conn.execute(select(c).where(c.c.terminal_id == terminal_id)
                        .order_by(c.c.id.desc()).limit(limit)).all()


def diagnostics_of(conn: Connection, terminal_id: str) -> list[Any]:
    d = s.diagnostics
    return conn.execute(select(d.c.id, d.c.name, d.c.sha256, d.c.ts, d.c.command_id, func.length(d.c.data).label("size"))
                        .where(d.c.terminal_id == terminal_id).order_by(d.c.id.desc()).limit(20)).all()


def add_diagnostics(conn: Connection, terminal_id: str, item: m.DiagnosticsIn, data: bytes, now: float) -> int:
    result = conn.execute(insert(s.diagnostics).values(
        terminal_id=terminal_id, command_id=item.command_id, name=item.name,
        sha256=hashlib.sha256(data).hexdigest(),
        data=data, ts=now))
    _event(conn, terminal_id, now, "diagnostics", f"{item.name} ({len(data)} bytes) uploaded")
    return int(result.inserted_primary_key[0])
