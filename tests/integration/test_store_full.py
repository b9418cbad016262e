"""Nothing lost at the edges of the store: a full disk stops an item before anything happens,
a crash mid-act is found and settled at the next start.

The full disk is real where the machine lets a test mount one: the kiosk's data dir on a
16 MiB tmpfs, filled by a file until the kernel says ENOSPC. Both ways the store can find out
are shown: the free-space check (``storage.min_free_mb``) that stops an item while SQLite
could still squeeze a row into its WAL, and SQLite itself failing the write (SQLITE_FULL from
ENOSPC) once the WAL has no room left either. Without the right to mount, those tests are
skipped; the others stand the minimum above what the disk has, which every machine can do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from kiosk.admin.actions import AdminActions
from kiosk.bootstrap import bootstrap
from kiosk.config import load_config
from kiosk.errors import JourneyError, StoreFullError
from kiosk.services.payment_order import pending_unconfirmed
from kiosk.sim.demo_data import BY_KEY
from kiosk.tours.scripted import ScriptedKiosk
from tests.integration.test_journey_certificate import start_certificate
from tests.integration.test_payments import orders_at_backend, start_bill
from tests.support import write_config

FULL_ZH = StoreFullError.message_zh


@pytest.fixture
def small_disk(tmp_path):
    """A 16 MiB tmpfs, unmounted afterwards; skipped where mounting is not allowed."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", str(mnt)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield mnt
    finally:
        if subprocess.run(["umount", str(mnt)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mnt)], check=True)


def fill(folder: Path) -> Path:
    """Write a file until the file system has no block left (ENOSPC from the kernel)."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 1 << 12):
            chunk = b"\0" * size
            while True:
                try:
                    os.write(fd, chunk)
                except OSError:
                    break
    finally:
        os.close(fd)
    assert os.statvfs(folder).f_bavail == 0
    return filler


def walk_away(s: ScriptedKiosk) -> None:
    """The resident takes the card and goes (through the farewell, where the journey has one)."""
    leave = getattr(s, "leave", None)
    if leave is not None:
        leave()
    else:
        s.take_card()


def certificates_issued(backend) -> int:
    with backend.store.lock:
        return backend.store.conn.execute("SELECT COUNT(*) FROM certificates").fetchone()[0]


def journal_status(kiosk, txn: str) -> str:
    return next(r["status"] for r in kiosk.journal.recent() if r["transaction_no"] == txn)


def test_a_full_disk_stops_a_certificate_before_anything_is_issued_or_printed(small_disk, reference_backend, tmp_path):
    config = load_config(write_config(tmp_path / "terminal", reference_backend.url, **{
        'data_dir = "var"': f'data_dir = "{small_disk}/var"', "min_free_mb = 20": "min_free_mb = 1"}))
    kiosk = bootstrap(config)
    kiosk.STORE_CHECK_S = 3600.0  # the test looks at the store itself, when it wants
    s = ScriptedKiosk(kiosk).start()
    try:
        first = s.certificate("wang_jianguo", level=5)  # served, rated, all on record
        assert first["ok"]
        printer = kiosk.hub.emulator("printer")
        assert printer.wait_for_documents(1)
        kiosk.delivery.flush(10)
        issued = certificates_issued(reference_backend)

        # the next resident has the record on screen when the disk fills up
        start_certificate(s, "li_guilan")
        flow = s.journey.flow
        flow.load()
        with kiosk.outbox._lock:  # an empty WAL: SQLite has no slack left to write into
            kiosk.outbox._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        filler = fill(small_disk)
        refused = flow.print_certificate()
        assert not refused.ok and FULL_ZH in refused.message_zh and "Nothing was printed" in refused.message_en
        assert refused.can_retry == ""
        assert certificates_issued(reference_backend) == issued and len(printer.documents) == 1
        assert kiosk.outbox.unavailable_reason()[0] == FULL_ZH

        # with the free-space minimum set aside, SQLite meets the full disk itself: same stop
        kiosk.outbox.min_free_bytes = 0
        again = flow.print_certificate()
        assert not again.ok and FULL_ZH in again.message_zh
        assert "database or disk is full" in str(kiosk.outbox.write_error)
        assert certificates_issued(reference_backend) == issued and len(printer.documents) == 1
        kiosk.outbox.min_free_bytes = 1 << 20
        assert s.journey.session.transaction_no not in {r["transaction_no"] for r in kiosk.journal.recent()}
        s.journey.end("cancelled")
        walk_away(s)

        # the next resident is told before starting
        assert not kiosk.check_store().usable
        item = s.item_for_flow("contribution_certificate")
        with pytest.raises(JourneyError) as told:
            s.journey.choose(item.id)
        assert told.value.message_zh == FULL_ZH
        assert AdminActions(kiosk).storage()["usable"] is False

        # space is freed: the next resident is served, and nothing earlier is missing
        filler.unlink()
        state = kiosk.check_store()
        assert state.usable and state.writable and kiosk.outbox.write_error is None
        second = s.certificate("zhang_xiuying", level=4)
        assert second["ok"] and printer.wait_for_documents(2)
        assert journal_status(kiosk, first["transaction_no"]) == "completed"
        assert journal_status(kiosk, second["transaction_no"]) == "completed"
        kiosk.delivery.flush(10)
        sent = {r["payload"]["transaction_no"] for r in reference_backend.received("transaction")}
        rated = {r["payload"]["transaction_no"] for r in reference_backend.received("rating")}
        assert {first["transaction_no"], second["transaction_no"]} <= sent & rated
        assert certificates_issued(reference_backend) == issued + 1
    finally:
        s.stop()


def test_below_the_free_space_minimum_no_certificate_payment_or_loss_report_starts(scripted, reference_backend):
    kiosk = scripted.kiosk
    start_certificate(scripted, "li_guilan")
    flow = scripted.journey.flow
    flow.load()
    kiosk.outbox.min_free_bytes = 1 << 60  # more than any disk has
    issued = certificates_issued(reference_backend)
    outcome = flow.print_certificate()
    assert not outcome.ok and FULL_ZH in outcome.message_zh
    assert certificates_issued(reference_backend) == issued
    assert kiosk.hub.emulator("printer").documents == []
    assert kiosk.journal.recent() == []
    scripted.journey.end("cancelled")
    walk_away(scripted)

    kiosk.outbox.min_free_bytes = 0
    kiosk.check_store()
    _item, pay, _charge = start_bill(scripted, "water", "zhang_xiuying")
    kiosk.outbox.min_free_bytes = 1 << 60
    with pytest.raises(StoreFullError):
        pay.start_payment()  # what the QR screen calls: its error ends in order_failed
    assert orders_at_backend(reference_backend) == []  # no order, so no QR code, so no money
    told = pay.order_failed(StoreFullError())
    assert not told.ok and FULL_ZH in told.message_zh
    scripted.journey.end("cancelled")
    walk_away(scripted)

    kiosk.outbox.min_free_bytes = 0
    kiosk.check_store()
    scripted.wait_device("idcard")
    item = scripted.item_for_flow("card_loss")
    scripted.journey.choose(item.id)
    scripted.journey.proceed()
    scripted.identify_with_idcard("feng_wei")
    loss = scripted.journey.flow
    loss.load()
    kiosk.outbox.min_free_bytes = 1 << 60
    outcome = loss.report(BY_KEY["feng_wei"].phone)
    assert not outcome.ok and FULL_ZH in outcome.message_zh
    assert kiosk.backend.card_status(BY_KEY["feng_wei"].id_number)["status"] == "normal"
    kiosk.outbox.min_free_bytes = 0


def wait_until(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_crash_mid_act_is_reported_and_settled_at_the_next_start(scripted, reference_backend, kiosk_config):
    kiosk = scripted.kiosk
    _item, pay, _charge = start_bill(scripted, "water", "zhang_xiuying")
    view = pay.start_payment()  # the order is made and its number journaled...
    [paying] = kiosk.journal.unsettled()
    assert paying["status"] == "paying" and paying["order_no"] == view.order_no
    kiosk.journal.begin(transaction_no="NY-370921-0001-CRASHED", item_id="x", item_name="个人参保缴费证明",
                        status="printing")  # ...and a certificate was being printed
    scripted.stop()  # the power goes

    restarted = ScriptedKiosk(bootstrap(kiosk_config)).start()
    try:
        journal = restarted.kiosk.journal
        assert {r["transaction_no"]: r["status"] for r in journal.interrupted} == {
            pay.txn: "paying", "NY-370921-0001-CRASHED": "printing"}
        shown = AdminActions(restarted.kiosk).storage()["interrupted"]
        assert {r["transaction_no"] for r in shown} == {pay.txn, "NY-370921-0001-CRASHED"}
        # the order is in doubt like a lost answer: asked about, closed unpaid, journaled
        assert wait_until(lambda: any(r["transaction_no"] == pay.txn + "-R" for r in journal.recent()))
        assert journal.unsettled() == [] and pending_unconfirmed(journal) == []
        status = {r["transaction_no"]: r["status"] for r in journal.recent()}
        assert status[pay.txn] == "paid_unconfirmed" and status[pay.txn + "-R"] == "cancelled"
        assert status["NY-370921-0001-CRASHED"] == "failed"
        assert orders_at_backend(reference_backend) == [(view.order_no, "closed", view.amount_fen)]
    finally:
        restarted.stop()


def test_a_lost_outbox_is_reported_and_the_kiosk_serves_only_what_needs_no_store(kiosk_config, caplog, tmp_path):
    first = bootstrap(kiosk_config)  # a terminal that has queued five rows for the backend
    for n in range(5):
        first.outbox.put("transaction", {"n": n})
    first.outbox.close()
    data = kiosk_config.data_dir
    for name in ("outbox.sqlite3-wal", "outbox.sqlite3-shm"):
        (data / name).unlink(missing_ok=True)
    (data / "outbox.sqlite3").write_bytes(b"")  # what was found on a terminal: a 0-byte outbox

    with caplog.at_level("ERROR"):
        kiosk = bootstrap(kiosk_config)
    assert any("empty (0 bytes)" in r.getMessage() for r in caplog.records)  # the log says so
    s = ScriptedKiosk(kiosk).start()  # the terminal still starts: guides, the admin screen
    try:
        certificate = s.item_for_flow("contribution_certificate")
        with pytest.raises(JourneyError) as refused:
            s.journey.choose(certificate.id)
        assert refused.value.message_zh == "终端存储故障，暂停办理，请联系工作人员"
        guide = next(i for i in kiosk.catalogue.items if i.kind != "self_service")
        s.journey.choose(guide.id)  # what needs no store is still served
        actions = AdminActions(kiosk)
        shown = actions.storage()
        assert shown["lost"] and not shown["usable"] and "empty (0 bytes)" in shown["problem"]
        assert "empty (0 bytes)" in actions.outbox()["problem"]
        (tmp_path / "usb").mkdir()
        with zipfile.ZipFile(actions.export_diagnostics(tmp_path / "usb")) as bundle:
            status = json.loads(bundle.read("status.json"))
        assert status["storage"]["lost"] and "empty (0 bytes)" in status["outbox"]["problem"]
        assert kiosk.heartbeat()["devices"]["store"] == "hardware_error"
    finally:
        s.stop()
    assert (data / "outbox.sqlite3").stat().st_size == 0  # left as found, for whoever recovers it
    told = subprocess.run([sys.executable, "-m", "kiosk.cli", "outbox", "status", "--config", str(kiosk_config.source)],
                          capture_output=True, text=True, timeout=60)
    assert told.returncode == 1 and told.stdout == ""
    [line] = told.stderr.splitlines()  # one clear line
    assert line.startswith("kiosk: ") and "empty (0 bytes)" in line and "may be lost" in line
