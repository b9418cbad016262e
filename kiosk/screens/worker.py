"""Run blocking calls off the Kivy thread and hand results back on it.

The journey's flows talk to the backend and the printer; those calls block. A screen calls
``app.worker.submit(fn, on_done, on_error)``: ``fn`` runs on a worker thread, the callbacks
run on the Kivy thread via ``Clock.schedule_once``. A call that takes longer than 300 ms
raises the busy indicator, so every wait shows progress.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from kivy.clock import Clock

from kiosk.errors import KioskError

log = logging.getLogger(__name__)

BUSY_AFTER_S = 0.3
WORKERS = 2


class UiWorker:
    """Two daemon threads taking calls in order. Daemon threads, not a ThreadPoolExecutor:
    at shutdown a call still running (a backend that does not answer) is waited for a few
    seconds and then abandoned, instead of holding the process past systemd's stop timeout.
    Whatever such a call left unfinished is what the outbox and the journal recover at start."""

    def __init__(self, on_busy: Callable[[bool], None] | None = None) -> None:
        self._queue: queue.Queue[tuple[Future, Callable[[], Any]] | None] = queue.Queue()
        self._threads = [threading.Thread(target=self._run, name=f"ui-worker-{i}", daemon=True)
                         for i in range(WORKERS)]
        for thread in self._threads:
            thread.start()
        self._running: set[Future] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._on_busy = on_busy
        self._pending = 0

    def _run(self) -> None:
        while True:
            work = self._queue.get()
            if work is None:
                return
            future, fn = work
            if not future.set_running_or_notify_cancel():
                continue
            with self._lock:
                self._running.add(future)
            try:
                result = fn()
            except BaseException as e:  # noqa: BLE001 - handed to the caller's on_error
                future.set_exception(e)
            else:
                future.set_result(result)
            finally:
                with self._lock:
                    self._running.discard(future)

    def submit(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[KioskError], None] | None = None,
    ) -> Future:
        self._pending += 1
        busy = Clock.schedule_once(lambda _dt: self._busy(True), BUSY_AFTER_S)

        def finished(future: Future) -> None:
            def on_main(_dt: float) -> None:
                busy.cancel()
                self._pending -= 1
                if self._pending == 0:
                    self._busy(False)
                if future.cancelled():  # the app is stopping
                    return
                error = future.exception()
                if error is None:
                    if on_done is not None:
                        on_done(future.result())
                elif isinstance(error, KioskError):
                    if on_error is not None:
                        on_error(error)
                    else:
                        log.warning("background call failed: %s", error)
                else:
                    log.error("background call crashed", exc_info=error)
                    if on_error is not None:
                        on_error(KioskError(f"unexpected {type(error).__name__}: {error}"))

            Clock.schedule_once(on_main, 0)

        future: Future = Future()
        future.add_done_callback(finished)
        if self._closed:
            future.cancel()
        else:
            self._queue.put((future, fn))
        return future

    def _busy(self, value: bool) -> None:
        if self._on_busy is not None:
            self._on_busy(value and self._pending > 0)

    def shutdown(self, timeout_s: float = 3.0) -> bool:
        """Take no more calls, drop the waiting ones, give running ones ``timeout_s`` to
        finish (a print under way completes). Returns False if one had to be abandoned."""
        self._closed = True
        while True:
            try:
                work = self._queue.get_nowait()
            except queue.Empty:
                break
            if work is not None:
                work[0].cancel()
        for _ in self._threads:
            self._queue.put(None)
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            left = len(self._running)
        if left:
            log.warning("stopping with %d background call(s) still running: abandoned", left)
        return left == 0


class WriteBehind:
    """Writes the resident need not wait for (the rating's fsynced outbox row), run one at a
    time, in order, on their own thread. Unlike ``UiWorker`` calls they are never dropped:
    ``drain`` (the app's stop, before the stores close) waits until every queued write is
    done, so a SIGTERM right after a rating still leaves the rating in the outbox."""

    def __init__(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="write-behind")

    def __call__(self, write: Callable[[], Any]) -> Future:
        future = self._pool.submit(write)
        future.add_done_callback(self._report)
        return future

    @staticmethod
    def _report(future: Future) -> None:
        error = future.exception()
        if error is not None:
            log.error("a write behind the resident's tap failed: %s", error)

    def drain(self) -> None:
        """Take no more writes; return once every queued one has run."""
        self._pool.shutdown(wait=True)
