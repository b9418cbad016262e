"""The rating's outbox row is written behind the tap (kiosk.screens.worker.WriteBehind): in
order, off the caller's thread, and never dropped when the app stops."""

from __future__ import annotations

import threading

from kiosk.screens.worker import WriteBehind


def test_queued_writes_all_run_in_order_before_drain_returns():
    writes = WriteBehind()
    gate = threading.Event()
    done: list[int] = []
    threads: set[str] = set()

    def write(i: int) -> None:
        gate.wait(5)  # the first write is slow: the others queue behind it
        threads.add(threading.current_thread().name)
        done.append(i)

    for i in range(5):
        writes(lambda i=i: write(i))
    assert done == []  # the caller did not wait for any of them
    gate.set()
    writes.drain()
    assert done == [0, 1, 2, 3, 4]
    assert threads and all(name.startswith("write-behind") for name in threads)


def test_a_failed_write_is_logged_and_the_next_still_runs(caplog):
    writes = WriteBehind()
    done: list[str] = []

    def broken() -> None:
        raise OSError("disk full")

    writes(broken)
    writes(lambda: done.append("rating"))
    writes.drain()
    assert done == ["rating"]
    assert "disk full" in caplog.text
