"""The outbox state machine and the journal, on a real SQLite file."""

from __future__ import annotations

import sqlite3
import time

import pytest

from kiosk.store.journal import Journal
from kiosk.store.outbox import Outbox


@pytest.fixture
def outbox(tmp_path):
    ob = Outbox(tmp_path / "outbox.db")
    yield ob
    ob.close()


def test_put_is_on_disk_when_it_returns(outbox, tmp_path):
    key = outbox.put("rating", {"n": 1, "名": "刘䶮"})
    # another connection (another process after a power cut) sees it
    other = sqlite3.connect(tmp_path / "outbox.db")
    row = other.execute("SELECT key, kind, state, payload FROM outbox").fetchone()
    other.close()
    assert row[0] == key and row[1] == "rating" and row[2] == "ready"
    assert "刘䶮" in row[3]


def test_durability_pragmas(outbox):
    conn = outbox._conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_same_key_is_queued_once(outbox):
    assert outbox.put("rating", {"n": 1}, "k1") == "k1"
    assert outbox.put("rating", {"n": 1}, "k1") == "k1"
    assert outbox.depth() == 1


def test_unknown_kind_is_refused(outbox):
    with pytest.raises(ValueError):
        outbox.put("payment_card_number", {})
    assert outbox.depth() == 0


def test_fifo_per_kind_and_kinds_do_not_block_each_other(outbox):
    outbox.put("device_event", {"n": 1}, "d1")
    outbox.put("rating", {"n": 1}, "r1")
    outbox.put("device_event", {"n": 2}, "d2")
    a = outbox.claim()
    assert a.key == "d1"
    # d2 waits for d1 (still in flight); the rating does not
    b = outbox.claim()
    assert b.key == "r1"
    assert outbox.claim() is None
    outbox.mark_done(a.seq)
    assert outbox.claim().key == "d2"


def test_a_row_backing_off_holds_back_its_kind(outbox):
    outbox.put("device_event", {"n": 1}, "d1")
    outbox.put("device_event", {"n": 2}, "d2")
    first = outbox.claim()
    outbox.mark_retry(first.seq, "down", delay_s=60)
    assert outbox.claim() is None  # d2 must not overtake d1
    again = outbox.claim(ignore_backoff=True)
    assert again.key == "d1" and again.attempts == 2


def test_failed_rows_are_kept_with_the_reason_and_let_the_kind_go_on(outbox):
    outbox.put("rating", {"n": 1}, "r1")
    outbox.put("rating", {"n": 2}, "r2")
    outbox.mark_failed(outbox.claim().seq, "invalid_request: satisfaction")
    assert outbox.claim().key == "r2"
    failed = outbox.items("failed")
    assert [f["key"] for f in failed] == ["r1"] and "satisfaction" in failed[0]["last_error"]
    stats = outbox.stats()
    assert stats["failed"] == 1 and "satisfaction" in stats["last_error"]
    assert outbox.requeue_failed("r1") == 1
    assert outbox.items("failed") == []


def test_rows_in_flight_at_a_crash_are_ready_after_recover(tmp_path):
    ob = Outbox(tmp_path / "o.db")
    ob.put("transaction", {"n": 1}, "t1")
    assert ob.claim().key == "t1"
    ob.close()  # the process dies here, the row still in flight
    ob2 = Outbox(tmp_path / "o.db")
    assert ob2.claim() is None
    assert ob2.recover() == 1
    item = ob2.claim()
    assert item.key == "t1" and item.attempts == 2
    ob2.close()


def test_depth_and_oldest_age(outbox):
    assert outbox.depth() == 0 and outbox.oldest_age_s() is None
    outbox.put("audit", {"n": 1})
    time.sleep(0.05)
    outbox.put("audit", {"n": 2})
    assert outbox.depth() == 2
    assert 0.04 <= outbox.oldest_age_s() < 5
    outbox.mark_done(outbox.claim().seq)
    s = outbox.stats()
    assert s["depth"] == 1 and s["done"] == 1 and s["pending_by_kind"] == {"audit": 1}


def test_journal_records_masked_and_queues_a_transaction(outbox):
    j = Journal(outbox)
    key = j.record(
        transaction_no="NY0001",
        item_id="water_bill",
        item_name="水费缴纳",
        status="completed",
        masked_name="王建国",
        masked_id="370921196207082819",
        amount_fen=4520,
        order_no="O1",
    )
    j.record(
        transaction_no="NY0001", item_id="water_bill", item_name="水费缴纳", status="completed"
    )  # retry
    rows = j.recent(1)
    assert len(rows) == 1
    assert rows[0]["masked_name"] == "王**" and rows[0]["masked_id"] == "370***********2819"
    assert rows[0]["amount_fen"] == 4520
    queued = outbox.items()
    assert [q["key"] for q in queued] == [key] and queued[0]["kind"] == "transaction"
    assert "370921196207082819" not in str(queued) and "王建国" not in str(queued)
    assert j.recent(1, item="other") == []


def test_a_reconciled_payment_updates_the_journal_and_tells_the_backend(outbox):
    j = Journal(outbox)
    k1 = j.record(
        transaction_no="NY0009",
        item_id="water_bill",
        item_name="水费缴纳",
        status="paid_unconfirmed",
        amount_fen=4520,
        order_no="PO1",
    )
    k2 = j.record(
        transaction_no="NY0009", item_id="water_bill", item_name="水费缴纳", status="completed"
    )
    assert k1 != k2
    [row] = j.recent(1)
    assert row["status"] == "completed" and row["amount_fen"] == 4520 and row["order_no"] == "PO1"
    assert [(q["key"], q["payload"]["status"]) for q in outbox.items()] == [
        (k1, "paid_unconfirmed"),
        (k2, "completed"),
    ]


def test_journal_and_outbox_commit_together(outbox):
    j = Journal(outbox)
    # the journal row is written first; the outbox insert then fails (key too long): both go
    with pytest.raises(ValueError):
        j.record(transaction_no="N" * 200, item_id="x", item_name="x", status="completed")
    assert j.recent(1) == [] and outbox.depth() == 0
    with pytest.raises(ValueError):
        j.record(transaction_no="NY0002", item_id="x", item_name="x", status="weird")
    assert j.recent(1) == [] and outbox.depth() == 0


def test_one_delivering_process_at_a_time(tmp_path):
    a = Outbox(tmp_path / "o.db")
    b = Outbox(tmp_path / "o.db")  # e.g. `kiosk outbox flush` while the kiosk runs
    assert a.try_lock_worker() is True
    assert b.try_lock_worker() is False
    a.close()  # the kiosk stops (or dies: the kernel drops the lock the same way)
    assert b.try_lock_worker() is True
    b.close()


def test_counters_keep_their_last_value_across_a_reopen_and_shrug_off_a_bad_row(tmp_path):
    from kiosk.store.counters import Counters

    outbox = Outbox(tmp_path / "o.sqlite3")
    counters = Counters(outbox)
    assert counters.load("printer_roll") == {}
    counters.save("printer_roll", {"receipts": 3, "mm": 412.5})
    counters.slot("printer_roll").save({"receipts": 4, "mm": 520.0})
    outbox.close()

    outbox = Outbox(tmp_path / "o.sqlite3")
    counters = Counters(outbox)
    assert counters.slot("printer_roll").load() == {"receipts": 4, "mm": 520.0}
    with outbox.transaction() as conn:
        conn.execute("UPDATE counters SET value = 'not json' WHERE name = 'printer_roll'")
    assert counters.load("printer_roll") == {}  # counted again from 0, never a crash at start
    outbox.close()
