"""Run blocking calls off the Kivy thread and hand results back on it.

The journey's flows talk to the backend and the printer; those calls block. A screen calls
``app.worker.submit(fn, on_done, on_error)``: ``fn`` runs on a worker thread, the callbacks
run on the Kivy thread via ``Clock.schedule_once``. A call that takes longer than 300 ms
raises the busy indicator, so every wait shows progress.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from kivy.clock import Clock

from kiosk.errors import KioskError

log = logging.getLogger(__name__)

BUSY_AFTER_S = 0.3


class UiWorker:
    def __init__(self, on_busy: Callable[[bool], None] | None = None) -> None:
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ui-worker")
        self._on_busy = on_busy
        self._pending = 0

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

        future = self._pool.submit(fn)
        future.add_done_callback(finished)
        return future

    def _busy(self, value: bool) -> None:
        if self._on_busy is not None:
            self._on_busy(value and self._pending > 0)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
