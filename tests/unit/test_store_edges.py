"""The store at its edges: a disk that refuses, an outbox that lost its rows, intents that a
crash left open. Real SQLite files; the full database comes from ``PRAGMA max_page_count``
(SQLite's own SQLITE_FULL, the code a full disk gives) and the low disk from a minimum of
free space above what the disk has."""

from __future__ import annotations

import sqlite3

import pytest

from kiosk.errors import OutboxLostError, StoreDamagedError, StoreError, StoreFullError
from kiosk.store.journal import Journal, stale_outcome
from kiosk.store.outbox import Outbox

FULL_ZH = "终端存储空间不足，暂停办理，请联系工作人员"
ENTRY = {"transaction_no": "NY-1", "item_id": "cert", "item_name": "个人参保缴费证明",
         "masked_name": "王**", "masked_id": "370***********2819"}


def capped(ob: Outbox) -> None:
    """The database may not grow by one page more: the next write that needs a page fails."""
    with ob._lock:
        pages = ob._conn.execute("PRAGMA page_count").fetchone()[0]
        ob._conn.execute(f"PRAGMA max_page_count = {pages}")


def uncapped(ob: Outbox) -> None:
    with ob._lock:
        ob._conn.execute("PRAGMA max_page_count = 1073741823")


# --- a disk that refuses ------------------------------------------------------------------------


def test_a_full_database_is_a_store_full_error_and_pauses_items_until_a_write_goes_through(tmp_path):
    ob = Outbox(tmp_path / "o.db")
    ob.put("rating", {"n": 1})
    assert ob.unavailable_reason() is None and ob.check_health().usable
    capped(ob)
    with pytest.raises(StoreFullError) as err:
        ob.put("rating", {"blob": "x" * 20_000})  # needs overflow pages
    assert err.value.message_zh == FULL_ZH and "database or disk is full" in str(err.value)
    assert ob.unavailable_reason() == (FULL_ZH, StoreFullError.message_en)
    assert ob.depth() == 1  # the refused row left nothing behind, the earlier one is there
    uncapped(ob)
    assert ob.check_health().usable and ob.unavailable_reason() is None
    ob.put("rating", {"blob": "x" * 20_000})
    assert ob.depth() == 2
    ob.close()


def test_below_the_minimum_free_space_nothing_new_starts(tmp_path):
    ob = Outbox(tmp_path / "o.db", min_free_bytes=1 << 60)  # more than any disk has
    j = Journal(ob)
    state = ob.check_health()
    assert state.low_space and state.writable and not state.usable
    assert ob.unavailable_reason()[0] == FULL_ZH
    with pytest.raises(StoreFullError, match="storage.min_free_mb"):
        j.begin(**ENTRY, status="printing")
    assert j.recent(1) == []
    # what was done is still written: a settle does not wait for room
    assert j.settle(**ENTRY, status="completed")
    assert [r["status"] for r in j.recent(1)] == ["completed"]
    ob.close()


def test_an_intent_refused_by_the_disk_writes_nothing_and_says_why(tmp_path):
    ob = Outbox(tmp_path / "o.db")
    j = Journal(ob)
    capped(ob)
    with ob._lock:  # fill the journal's page so the next row needs a new one
        with pytest.raises(sqlite3.OperationalError):
            for n in range(1000):
                ob._conn.execute("INSERT INTO journal VALUES (?, 'x', 'x', '', '', NULL, NULL, 'failed', 0)",
                                 (f"filler-{n}",))
    with pytest.raises(StoreFullError):
        j.begin(**ENTRY, status="printing")
    assert j.unsettled() == []
    ob.close()


def test_a_settle_the_disk_refuses_is_kept_and_written_once_it_takes_writes(tmp_path):
    ob = Outbox(tmp_path / "o.db")
    j = Journal(ob)
    j.begin(**ENTRY, status="printing")
    capped(ob)
    with ob._lock:
        with pytest.raises(sqlite3.OperationalError):
            for n in range(1000):
                ob._conn.execute("INSERT INTO outbox (key, kind, payload, created_at, updated_at)"
                                 " VALUES (?, 'audit', '{}', 0, 0)", (f"filler-{n}",))
    assert j.settle(**ENTRY, status="completed", amount_fen=None) is False  # never raises
    assert [e["transaction_no"] for e in j.deferred()] == ["NY-1"]
    assert [r["status"] for r in j.unsettled()] == ["printing"]
    # a stale sweep leaves a matter whose settle is waiting alone: it is not abandoned
    assert j.settle_stale() == []
    uncapped(ob)
    assert j.retry_deferred() == 1 and j.deferred() == []
    assert [r["status"] for r in j.recent(1)] == ["completed"]
    assert [i["payload"]["status"] for i in ob.items("ready", limit=5000) if i["kind"] == "transaction"] == ["completed"]
    ob.close()


# --- intents ------------------------------------------------------------------------------------


def test_an_intent_is_journaled_but_never_sent_and_settling_sends_it_once(tmp_path):
    ob = Outbox(tmp_path / "o.db")
    j = Journal(ob)
    j.begin(**ENTRY, status="printing")
    j.begin(**ENTRY, status="printing")  # a retry writes again
    assert [r["status"] for r in j.unsettled()] == ["printing"] and ob.depth() == 0
    j.record(**ENTRY, status="completed")
    j.begin(**ENTRY, status="printing")  # a settled matter keeps its status
    assert [r["status"] for r in j.recent(1)] == ["completed"] and j.unsettled() == []
    assert [i["payload"]["status"] for i in ob.items()] == ["completed"]
    with pytest.raises(ValueError):
        j.begin(**ENTRY, status="completed")
    ob.close()


def test_a_dropped_intent_leaves_no_trace_but_a_settled_matter_stays(tmp_path):
    ob = Outbox(tmp_path / "o.db")
    j = Journal(ob)
    j.begin(**ENTRY, status="started")
    j.drop_intent("NY-1")
    assert j.recent(1) == []
    j.record(**ENTRY, status="completed")
    j.drop_intent("NY-1")
    assert [r["status"] for r in j.recent(1)] == ["completed"]
    ob.close()


def test_intents_a_crash_left_open_are_found_at_start_and_settled_by_what_they_were(tmp_path):
    ob = Outbox(tmp_path / "o.db")
    j = Journal(ob)
    j.begin(**ENTRY, status="printing")
    j.begin(**(ENTRY | {"transaction_no": "NY-2"}), status="paying", order_no="PO-7", amount_fen=4520)
    j.begin(**(ENTRY | {"transaction_no": "NY-3"}), status="paying")  # no order was made
    j.begin(**(ENTRY | {"transaction_no": "NY-4"}), status="started")
    ob.close()  # the process dies mid-act

    ob = Outbox(tmp_path / "o.db")
    j = Journal(ob)
    assert [(r["transaction_no"], r["status"]) for r in j.interrupted] == [
        ("NY-1", "printing"), ("NY-2", "paying"), ("NY-3", "paying"), ("NY-4", "started")]
    settled = j.settle_stale()
    assert {s["transaction_no"]: s["status"] for s in settled} == {
        "NY-1": "failed", "NY-2": "paid_unconfirmed", "NY-3": "cancelled", "NY-4": "failed"}
    assert j.unsettled() == []
    sent = {i["payload"]["transaction_no"]: i["payload"] for i in ob.items()}
    assert sent["NY-2"]["order_no"] == "PO-7" and sent["NY-2"]["amount_fen"] == 4520
    ob.close()


def test_a_running_session_keeps_its_intent_and_only_old_ones_are_abandoned(tmp_path):
    ob = Outbox(tmp_path / "o.db")
    j = Journal(ob)
    j.begin(**ENTRY, status="printing")
    j.begin(**(ENTRY | {"transaction_no": "NY-2"}), status="printing")
    assert j.settle_stale(keep=("NY-1",), older_than_s=600) == []  # both are fresh
    assert [s["transaction_no"] for s in j.settle_stale(keep=("NY-1",))] == ["NY-2"]
    assert [r["transaction_no"] for r in j.unsettled()] == ["NY-1"]
    assert stale_outcome({"status": "paying", "order_no": ""}) == "cancelled"
    ob.close()


def fresh_database(path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.close()


# --- an outbox that lost its rows ---------------------------------------------------------------


def test_a_new_terminal_starts_cleanly_and_the_first_row_leaves_a_note(tmp_path):
    path = tmp_path / "outbox.sqlite3"
    ob = Outbox(path)
    assert ob.lost is None and not ob.mark.path.exists()
    ob.put("rating", {"n": 1})
    assert ob.mark.read() == 1
    ob.put("rating", {"n": 2})
    ob.close()
    ob = Outbox(path)  # opened with more rows: the note rises
    assert ob.lost is None and ob.mark.read() == 2
    ob.close()


@pytest.mark.parametrize(
    ("damage", "says", "kind"),
    [
        (lambda p: p.write_bytes(b""), "empty (0 bytes)", OutboxLostError),
        (lambda p: p.unlink(), "missing", OutboxLostError),
        (lambda p: p.write_bytes(b"this is not a database" * 300), "unreadable", OutboxLostError),
        (lambda p: (p.unlink(), p.mkdir()), "unreadable", StoreError),
        (lambda p: (p.unlink(), fresh_database(p)), "holds rows up to number 0 only", OutboxLostError),
    ],
    ids=["zero_bytes", "missing", "not_a_database", "a_directory", "an_empty_database"],
)
def test_an_outbox_that_had_rows_and_lost_them_is_an_error_never_an_empty_outbox(tmp_path, damage, says, kind):
    path = tmp_path / "outbox.sqlite3"
    ob = Outbox(path)
    for n in range(5):
        ob.put("transaction", {"n": n})
    ob.close()
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    damage(path)
    before = path.read_bytes() if path.is_file() else None

    ob = Outbox(path)
    assert isinstance(ob.lost, kind) and says in str(ob.lost) and "but it had held rows" in str(ob.lost)
    assert ob.unavailable_reason() == (StoreError.message_zh, StoreError.message_en)
    assert not ob.state().usable and ob.state().lost
    with pytest.raises(kind):
        ob.put("rating", {"n": 9})
    with pytest.raises(kind):
        ob.depth()
    assert ob.recover() == 0
    ob.close()
    assert (path.read_bytes() if path.is_file() else None) == before  # what is left is left alone


def test_a_file_that_is_not_a_database_is_an_error_even_on_a_new_terminal(tmp_path):
    path = tmp_path / "outbox.sqlite3"
    path.write_bytes(b"garbage" * 1000)
    ob = Outbox(path)
    assert isinstance(ob.lost, StoreDamagedError)
    assert path.read_bytes() == b"garbage" * 1000
    ob.close()


def test_the_outbox_status_command_says_so_in_one_line_and_fails(tmp_path, capsys):
    from kiosk.cli import main
    from tests.support import write_config

    config = write_config(tmp_path / "t", "http://127.0.0.1:9")
    data = tmp_path / "t" / "var"
    ob = Outbox(data / "outbox.sqlite3")
    for n in range(5):
        ob.put("transaction", {"n": n})
    ob.close()
    assert main(["outbox", "status", "--config", str(config)]) == 0
    assert '"depth": 5' in capsys.readouterr().out
    for name in ("outbox.sqlite3-wal", "outbox.sqlite3-shm"):
        (data / name).unlink(missing_ok=True)
    (data / "outbox.sqlite3").write_bytes(b"")
    assert main(["outbox", "status", "--config", str(config)]) == 1
    out = capsys.readouterr()
    assert out.out == ""
    [line] = out.err.splitlines()
    assert line.startswith("kiosk: ") and "empty (0 bytes)" in line and "but it had held rows" in line
    # set aside (kept), the next start begins an empty outbox
    assert main(["outbox", "set-aside", "--config", str(config)]) == 0
    assert any(p.name.startswith("outbox.sqlite3.lost-") for p in data.iterdir())
    assert main(["outbox", "status", "--config", str(config)]) == 0
    assert '"depth": 0' in capsys.readouterr().out
