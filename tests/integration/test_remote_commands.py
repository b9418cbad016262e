"""Remote commands from the fleet console reach a whole kiosk in its heartbeat's answer, are
carried out once, audited, and acknowledged in a later heartbeat."""

from __future__ import annotations

import io
import json
import time
import zipfile

from sqlalchemy import select

from kiosk.gateway import fleet
from kiosk.gateway import schema as s

TERMINAL = "NY-370921-0001"


def _queue(backend, kind, args=None):
    with backend.gateway_store.write() as conn:
        return fleet.add_command(conn, TERMINAL, kind, args or {}, "tech01")


def _commands(backend):
    with backend.gateway_store.read() as conn:
        return {c.id: c for c in fleet.commands_of(conn, TERMINAL)}


def test_commands_are_carried_out_once_audited_and_acknowledged(scripted, reference_backend):
    kiosk = scripted.kiosk
    out = _queue(reference_backend, "out_of_service")
    notice = _queue(reference_backend, "notice", {"text_zh": "今晚22点停机维护", "text_en": "Closed for maintenance at 22:00"})
    reconnect = _queue(reference_backend, "reconnect", {"device": "printer"})
    diagnostics = _queue(reference_backend, "diagnostics")
    bad = _queue(reference_backend, "reconnect", {"device": "toaster"})

    assert kiosk.delivery.send_heartbeat()  # the answer carries the commands: carried out now
    assert kiosk.journey.maintenance is True
    assert kiosk.notice == ("今晚22点停机维护", "Closed for maintenance at 22:00")
    assert kiosk.delivery.send_heartbeat()  # the acknowledgements go with the next one

    cmds = _commands(reference_backend)
    assert {cid: cmds[cid].state for cid in (out, notice, reconnect, diagnostics)} == dict.fromkeys(
        (out, notice, reconnect, diagnostics), "done")
    assert cmds[bad].state == "failed" and "toaster" in cmds[bad].result
    assert "printer reconnected" in cmds[reconnect].result

    # the bundle reached the gateway: a zip with the terminal's status, no personal data
    with reference_backend.gateway_store.read() as conn:
        row = conn.execute(select(s.diagnostics.c.data, s.diagnostics.c.command_id)).one()
    assert row.command_id == diagnostics
    status = json.loads(zipfile.ZipFile(io.BytesIO(row.data)).read("status.json"))
    assert status["terminal"] == TERMINAL and status["in_service"] is False

    # the console shows what the terminal shows
    with reference_backend.gateway_store.read() as conn:
        view = fleet.terminal(conn, TERMINAL, now=time.time(), offline_after_s=3600)
    assert view.notice == "今晚22点停机维护 / Closed for maintenance at 22:00"
    assert view.in_service is False

    # every command is in the terminal's own audit trail, which reaches the gateway too
    kiosk.delivery.flush(10)
    actions = [r["payload"]["action"] for r in reference_backend.received("audit")]
    for kind in ("remote_out_of_service", "remote_notice", "remote_reconnect", "remote_diagnostics"):
        assert actions.count(kind) == (2 if kind == "remote_reconnect" else 1), kind


def test_a_command_whose_ack_was_lost_is_not_carried_out_twice(scripted, reference_backend):
    kiosk = scripted.kiosk
    cid = _queue(reference_backend, "out_of_service")
    answer = {"commands": [{"command_id": cid, "kind": "out_of_service", "args": {}}]}
    worker = kiosk.delivery
    assert worker._carry_out(answer["commands"]) is True
    kiosk.journey.maintenance = False  # someone on site reopened it meanwhile
    assert worker._carry_out(answer["commands"]) is True  # the same id again: only re-acknowledged
    assert kiosk.journey.maintenance is False
    assert worker.send_heartbeat()
    assert _commands(reference_backend)[cid].state == "done"
    assert worker._acks == []


def test_back_in_service_and_a_cleared_notice(scripted, reference_backend):
    kiosk = scripted.kiosk
    _queue(reference_backend, "out_of_service")
    _queue(reference_backend, "notice", {"text_zh": "暂停", "text_en": "Closed"})
    assert kiosk.delivery.send_heartbeat()
    _queue(reference_backend, "in_service")
    _queue(reference_backend, "notice", {"text_zh": "", "text_en": ""})
    assert kiosk.delivery.send_heartbeat()
    assert kiosk.journey.maintenance is False and kiosk.notice == ("", "")
