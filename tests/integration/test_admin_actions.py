"""The technician's actions against a whole running kiosk: real drivers on emulators, real
SQLite, real HTTP to the reference backend. Every action leaves an audit row that reaches
the backend; the diagnostics bundle carries no resident's data."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import zipfile

import pytest

from kiosk.admin.actions import RESTART_EXIT_CODE, AdminActions, AdminError
from kiosk.admin.logs import install_log_ring
from kiosk.errors import DeviceTimeoutError, JourneyError, PaperOutError
from kiosk.hardware.base import PaperStatus
from kiosk.sim.demo_data import BY_KEY, RESIDENTS

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def actions(scripted):
    return AdminActions(scripted.kiosk)


def run_pumping(scripted, actions, fn, timeout=20.0):
    """Run a blocking action on a thread while this thread hands device events to the
    journey and the admin actions, as the app does on its UI thread."""
    box = {}

    def work():
        try:
            box["value"] = fn()
        except Exception as e:  # noqa: BLE001 - handed back to the test
            box["error"] = e

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while thread.is_alive() and time.monotonic() < deadline:
        try:
            event = scripted.events.get(timeout=0.05)
        except queue.Empty:
            continue
        scripted.handle(event)
        if not isinstance(event, tuple):
            actions.offer_event(event)
    thread.join(1)
    assert not thread.is_alive(), "the action did not finish"
    if "error" in box:
        raise box["error"]
    return box["value"]


def later(delay, fn):
    timer = threading.Timer(delay, fn)
    timer.daemon = True
    timer.start()
    return timer


def test_maintenance_refuses_residents_until_service_is_back(scripted, actions):
    item = scripted.item_for_flow("contribution_certificate")
    for name in item.devices:
        scripted.wait_device(name)
    actions.login("ok")
    assert scripted.journey.closed_reason()[0] == "终端维护中，暂停服务"
    with pytest.raises(JourneyError) as err:
        scripted.journey.choose(item.id)
    assert err.value.message_zh == "终端维护中，暂停服务"
    assert scripted.journey.state == "home"
    actions.set_in_service(True)
    scripted.journey.choose(item.id)
    assert scripted.journey.state == "guide"


def test_logout_reopens_unless_the_technician_closed_the_terminal(scripted, actions):
    journey = scripted.journey
    actions.login("ok")
    assert journey.maintenance and actions.in_service_after_logout()
    assert actions.logout("idle") is True and not journey.maintenance
    actions.login("ok")
    actions.set_in_service(False)  # on purpose: the printer is broken
    assert not actions.in_service_after_logout()
    assert actions.logout("exit") is False and journey.maintenance
    actions.login("ok")  # already closed before this session: it stays closed
    assert actions.logout("idle") is False and journey.maintenance


def test_every_action_is_audited_and_reaches_the_backend(scripted, actions, reference_backend, tmp_path):
    kiosk = scripted.kiosk
    for name in ("idcard", "sscard", "printer", "ratingpad", "scanner"):
        scripted.wait_device(name, 15)
    printer = kiosk.hub.emulator("printer")
    person = BY_KEY["wang_jianguo"]
    done = scripted.certificate("wang_jianguo")
    pages = len(printer.documents)

    actions.login("wrong", 4)
    actions.login("ok")
    rows = {r.name: r for r in actions.devices()}
    assert set(rows) == {"idcard", "sscard", "printer", "ratingpad", "scanner", "camera"}
    assert all(r.status == "online" for r in rows.values()), rows
    assert rows["printer"].paper == "full" and rows["idcard"].paper == ""

    assert "Test page printed" in actions.self_test_print()
    assert printer.wait_for_documents(pages + 1)
    assert "打印机自检" in printer.documents[-1].text

    later(0.5, lambda: kiosk.hub.emulator("idcard").place("liu_yan"))
    shown = run_pumping(scripted, actions, lambda: actions.self_test_card("idcard", 10))
    liu = BY_KEY["liu_yan"]
    assert liu.id_number[-4:] in shown and liu.id_number not in shown and liu.name not in shown
    kiosk.hub.emulator("idcard").remove()

    later(0.5, lambda: kiosk.hub.emulator("sscard").insert("zhou_fang"))
    shown = run_pumping(scripted, actions, lambda: actions.self_test_card("sscard", 10))
    assert BY_KEY["zhou_fang"].sscard_number not in shown and BY_KEY["zhou_fang"].sscard_number[-4:] in shown
    kiosk.hub.emulator("sscard").remove()

    pad = kiosk.hub.emulator("ratingpad")
    later(0.8, lambda: pad.press(5))
    assert "5" in run_pumping(scripted, actions, lambda: actions.self_test_ratingpad(10))
    with pytest.raises(DeviceTimeoutError):
        run_pumping(scripted, actions, lambda: actions.self_test_ratingpad(0.5))

    actions.reconnect("printer")
    used = actions.paper()
    assert used.receipts >= 2 and used.used_mm > 0 and not used.near_end
    actions.reset_roll()
    assert actions.paper().receipts == 0

    rows = actions.journal(days=1)
    assert [r["transaction_no"] for r in rows] == [done["transaction_no"]]
    assert rows[0]["masked_id"] == "370***********" + person.id_number[-4:]
    assert actions.journal(item="no-such-item") == []
    pages = len(printer.documents)
    actions.reprint(done["transaction_no"])
    assert printer.wait_for_documents(pages + 1)
    copy = "".join(printer.documents[-1].text.split())  # long numbers wrap on 58 mm paper
    assert "补打" in copy and done["transaction_no"] in copy and person.id_number not in copy
    with pytest.raises(AdminError):
        actions.reprint("NO-SUCH-TXN")

    actions.logs(50)
    config = actions.effective_config()
    assert config["admin"]["pin_hash"] in ("(hidden)", "(not set)")
    export = tmp_path / "usb"
    export.mkdir()
    actions.export_diagnostics(export)
    with pytest.raises(AdminError):
        actions.export_diagnostics(tmp_path / "not-mounted")
    actions.set_in_service(True)
    assert actions.restart() == RESTART_EXIT_CODE
    actions.deliver_now(10)
    actions.logout("exit")
    assert kiosk.delivery.flush(15) == 0

    audited = actions.audit.recent(100)
    by_action = {}
    for row in audited:
        by_action.setdefault(row["action"], []).append(row["result"])
    for action in ("login", "selftest_print", "selftest_idcard", "selftest_sscard", "selftest_ratingpad",
                   "reconnect", "paper_roll_reset", "journal_view", "reprint", "logs_view", "config_view",
                   "export_diagnostics", "service", "restart", "deliver_now", "logout"):
        assert action in by_action, action
    assert "refused" in by_action["login"] and "ok" in by_action["login"]
    assert "failed" in by_action["selftest_ratingpad"] and "failed" in by_action["reprint"]
    assert "failed" in by_action["export_diagnostics"]

    received = {r["idempotency_key"]: r for r in reference_backend.received("audit")}
    for row in audited:
        got = received[row["outbox_key"]]
        assert got["terminal"] == kiosk.config.terminal.id
        assert got["payload"]["action"] == row["action"]
        assert got["payload"]["detail"].startswith(f"[{row['result']}]")
    assert len(received) == len(audited)


def test_a_failed_self_test_is_audited_as_failed(scripted, actions):
    scripted.wait_device("printer")
    scripted.kiosk.hub.emulator("printer").set_paper(PaperStatus.OUT)
    with pytest.raises(PaperOutError):
        actions.self_test_print()
    row = actions.audit.recent(1)[0]
    assert row["action"] == "selftest_print" and row["result"] == "failed" and "paper" in row["detail"]


def test_the_diagnostics_bundle_holds_no_personal_data(scripted, actions, tmp_path):
    ring = install_log_ring()
    root = logging.getLogger()
    old_level = root.level
    root.setLevel(logging.DEBUG)  # the most talkative the terminal can be
    ring.setLevel(logging.DEBUG)
    try:
        for name in ("idcard", "sscard", "printer"):
            scripted.wait_device(name, 15)
        for key in ("wang_jianguo", "liu_yan", "zhang_xiuying", "ayigul"):
            scripted.certificate(key)
        for level in (None, 1):
            scripted.certificate("zhao_li", level=level, reasons=("slow",) if level == 1 else ())
        later(0.3, lambda: scripted.kiosk.hub.emulator("sscard").insert("ouyang_na"))
        run_pumping(scripted, actions, lambda: actions.self_test_card("sscard", 10))
        actions.reprint(actions.journal(days=1)[0]["transaction_no"])
        scripted.kiosk.delivery.flush(10)
        export = tmp_path / "usb"
        export.mkdir()
        path = actions.export_diagnostics(export)
    finally:
        root.setLevel(old_level)
        ring.setLevel(logging.INFO)
    assert path.parent == export and path.suffix == ".zip"
    assert [p.name for p in export.iterdir()] == [path.name]  # no partial file left behind
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        texts = {name: zf.read(name).decode("utf-8") for name in names}
    assert {"status.json", "config.json", "logs.txt", "audit.json"} <= names
    assert "printer" in texts["status.json"] and "depth" in texts["status.json"]
    assert "journey" in texts["logs.txt"]  # the journeys above were logged...
    everything = "\n".join(texts.values())
    for r in RESIDENTS:  # ...and no resident can be found in any of it
        for value in (r.id_number, r.name, r.sscard_number, r.phone, r.id_number[:17]):
            assert value not in everything, (r.key, value)
    assert "test-terminal-secret" not in everything


def _cli(*args, stdin=""):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "kiosk.cli", *args], input=stdin, capture_output=True,
                          text=True, timeout=60)


def test_set_admin_pin_keeps_the_file_and_the_gate_accepts_it(kiosk_config, tmp_path):
    from kiosk.admin.pin import PinGate
    from kiosk.config import load_config

    path = kiosk_config.source
    before = path.read_text(encoding="utf-8")
    done = _cli("set-admin-pin", "--config", str(path), "--pin-stdin", stdin="20261123\n")
    assert done.returncode == 0, done.stderr
    assert "20261123" not in done.stdout + done.stderr
    after = path.read_text(encoding="utf-8")
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
    assert len(changed) == 1 and changed[0][1].startswith('pin_hash = "scrypt$16384$8$1$')  # comments kept
    config = load_config(path)
    gate = PinGate(config.admin, tmp_path / "gate")
    assert gate.check("20261123").ok and gate.check("20261124").kind == "wrong"
    bad = _cli("set-admin-pin", "--config", str(path), "--pin-stdin", stdin="12ab56\n")
    assert bad.returncode == 1 and "6 to 8 digits" in bad.stderr
    assert path.read_text(encoding="utf-8") == after  # nothing changed
    audit = _cli("admin", "audit", "--config", str(path))
    assert json.loads(audit.stdout)[0]["action"] == "pin_set"


def test_the_diagnostics_command_writes_a_bundle(kiosk_config, tmp_path):
    done = _cli("admin", "diagnostics", "--config", str(kiosk_config.source), "--out", str(tmp_path / "usb"))
    assert done.returncode == 0, done.stderr
    bundle = tmp_path / "usb" / done.stdout.strip().rsplit("/", 1)[-1]
    with zipfile.ZipFile(bundle) as zf:
        config = json.loads(zf.read("config.json"))
        status = json.loads(zf.read("status.json"))
    assert config["admin"]["pin_hash"] == "(not set)" and config["terminal"]["id"] == "NY-370921-0001"
    assert {d["name"] for d in status["devices"]} == {"idcard", "sscard", "printer", "ratingpad", "scanner", "camera"}
