"""The worker that empties the outbox into the backend, with back-off, never losing a row.

One thread takes rows one at a time (so each kind keeps its order) and hands them to
``BackendClient.deliver`` with the row's idempotency key. What happens next depends on the
answer:

* accepted: the row is done;
* the backend cannot be reached or answered garbage: the row goes back to ready with an
  exponential back-off, the whole worker pauses (the network is down for every row), and
  ``online`` turns False;
* the terminal's signature was refused (clock or secret wrong): the same, because fixing the
  clock or the secret must let every row through, not leave them failed;
* the backend refused the row itself (not retryable): the row is failed with the reason,
  kept for the admin screen, and the next row of that kind goes.

Remote commands (the fleet console's) come in the heartbeat's answer: the terminal never
opens a port. Each command id is carried out once (``on_command`` returns whether it worked
and a line of detail); its acknowledgement rides on the next heartbeats until the backend has
taken one of them, and a heartbeat goes at once after a command so the console sees it soon.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from kiosk.errors import BackendError, BackendUnavailableError, KioskError
from kiosk.store.db import StoreError
from kiosk.store.outbox import Outbox, OutboxItem

if TYPE_CHECKING:
    from kiosk.backend.client import BackendClient

log = logging.getLogger(__name__)


class DeliveryWorker:
    def __init__(
        self,
        outbox: Outbox,
        client: BackendClient,
        *,
        on_online_change: Callable[[bool], None] | None = None,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 30.0,
        idle_poll_s: float = 5.0,
        heartbeat: Callable[[], dict] | None = None,
        heartbeat_s: float = 60.0,
        keep_done_s: float = 30 * 86400,
        on_command: Callable[[dict], tuple[bool, str]] | None = None,
        senders: dict[str, Callable[[OutboxItem], object]] | None = None,
    ) -> None:
        """``heartbeat`` builds the heartbeat payload (see ``payloads.heartbeat``); the worker
        sends one every ``heartbeat_s`` directly, not through the outbox (a missed heartbeat
        is just missed; a backlog of stale ones would say nothing). It doubles as the probe that
        notices the backend is back while rows wait out a back-off. ``senders`` deliver the
        kinds that take more than one call (an application's chunked upload, see
        ``kiosk.backend.uploads``); they fail the way ``BackendClient.deliver`` does."""
        self.outbox = outbox
        self.client = client
        self.on_online_change = on_online_change
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.idle_poll_s = idle_poll_s
        self.online = True
        self.last_error = ""
        self.delivered = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pause_until = 0.0
        self._failures_in_row = 0
        self._wake = threading.Event()
        self._busy = threading.Lock()  # one row in the hands of the backend at a time
        self.heartbeat = heartbeat
        self.heartbeat_s = heartbeat_s
        self.keep_done_s = keep_done_s
        self._next_heartbeat = 0.0
        self._next_purge = 0.0
        self.on_command = on_command
        #: acknowledgements not yet taken by the backend, and the command ids carried out
        self._acks: list[dict] = []
        self._carried_out: dict[int, dict] = {}
        self._heartbeat_lock = threading.Lock()  # the worker's and a caller's heartbeat
        self.senders = dict(senders or {})

    # --- life cycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start delivering in a thread. Raises ``StoreError`` if another process delivers."""
        if self._thread is not None:
            return
        if not self.outbox.try_lock_worker():
            raise StoreError(f"{self.outbox.path}: another process is delivering this outbox")
        self._recover()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="outbox-delivery", daemon=True)
        self._thread.start()

    def _recover(self) -> None:
        resumed = self.outbox.recover()
        if resumed:
            log.info("outbox: %d row(s) in flight at the last stop are ready again", resumed)

    def stop(self, timeout_s: float = 15.0) -> None:
        self._stop.set()
        self._wake.set()
        self.outbox.changed.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)
            self._thread = None
        self.outbox.release_worker_lock()

    def wake(self) -> None:
        """Try now (a technician's forced sync, or the network is known to be back)."""
        self._pause_until = 0.0
        self._wake.set()
        self.outbox.changed.set()

    def flush(self, timeout_s: float) -> int:
        """Deliver everything deliverable now, ignoring back-off; return how many rows remain.

        Works with or without the worker thread running: both take rows through the same
        atomic claim, so a row is never in two hands.
        """
        deadline = time.monotonic() + timeout_s
        if self._thread is None and self.outbox.try_lock_worker():
            self._recover()  # nobody else delivers: rows left in flight by a crash are ours
        self.wake()
        while time.monotonic() < deadline and not self._stop.is_set():
            if self.outbox.depth() == 0:
                break
            progressed = self.run_once(ignore_backoff=True)
            if progressed is None:
                time.sleep(0.05)  # the head rows are in the worker thread's hands
            elif progressed is False:
                time.sleep(
                    min(0.5, max(0.0, deadline - time.monotonic()))
                )  # backend down: retry soon
        return self.outbox.depth()

    # --- the work ------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            self._housekeeping()
            wait = self._pause_until - time.time()
            if wait > 0:
                # paused because the backend is down: a new row must not cut the pause short,
                # but a heartbeat that gets through does
                self._wake.wait(min(wait, self._until_heartbeat()))
                self._wake.clear()
                continue
            self.outbox.changed.clear()  # before the claim, so a put after it is not missed
            if self._stop.is_set():
                # stop() came while this pass was busy (a heartbeat in flight): the clear above
                # may have swallowed its wake-up, and the wait below would last a whole poll
                break
            try:
                progressed = self.run_once()
            except KioskError as e:  # the local store failed; keep trying, say so
                self.last_error = str(e)
                log.error("outbox: %s", e)
                self._wake.wait(self.backoff_max_s)
                continue
            if progressed is None:
                self.outbox.changed.wait(min(self.idle_poll_s, self._until_heartbeat()))

    def _until_heartbeat(self) -> float:
        if self.heartbeat is None:
            return float("inf")
        return max(0.0, self._next_heartbeat - time.monotonic())

    def _housekeeping(self) -> None:
        now = time.monotonic()
        if now >= self._next_purge:
            self._next_purge = now + 6 * 3600
            try:
                self.outbox.purge_done(self.keep_done_s)
            except KioskError as e:
                log.warning("outbox: purge failed: %s", e)
        if self.heartbeat is not None and now >= self._next_heartbeat:
            self._next_heartbeat = now + self.heartbeat_s
            self.send_heartbeat()

    def send_heartbeat(self) -> bool:
        """Send one heartbeat now; True if the backend took it."""
        if self.heartbeat is None:
            return False
        with self._heartbeat_lock:
            return self._send_heartbeat()

    def _send_heartbeat(self) -> bool:
        acks = list(self._acks[:32])
        try:
            payload = dict(self.heartbeat())
            if acks:
                payload["acks"] = acks
            answer = self.client.heartbeat(payload, f"hb-{uuid.uuid4().hex}")
        except BackendError as e:
            if isinstance(e, BackendUnavailableError) or getattr(e, "status", None) == 401:
                self.last_error = f"heartbeat: {type(e).__name__}: {e}"
                self._set_online(False)
            else:
                log.warning("heartbeat refused: %s", e)
            return False
        except Exception:  # the payload callback belongs to someone else; it must not stop us
            log.exception("heartbeat payload failed")
            return False
        if not self.online or self._pause_until > time.time():
            self._pause_until = 0.0  # the backend is back: stop waiting
            self._failures_in_row = 0
            self.outbox.release_backoff()
        self._set_online(True)
        taken = {a["command_id"] for a in acks}
        self._acks = [a for a in self._acks if a["command_id"] not in taken]
        if self._carry_out(answer.get("commands") or []):
            self._next_heartbeat = 0.0  # acknowledge soon
            self._wake.set()
        return True

    def _carry_out(self, commands: list[dict]) -> bool:
        """Carry out each new command once; True if there is something to acknowledge."""
        for command in commands:
            cid = int(command.get("command_id", 0))
            if cid in self._carried_out:  # the ack was lost or not yet sent: say it again
                if not any(a["command_id"] == cid for a in self._acks):
                    self._acks.append(self._carried_out[cid])
                continue
            if self.on_command is None:
                ok, detail = False, "this terminal takes no remote commands"
            else:
                try:
                    ok, detail = self.on_command(command)
                except Exception as e:  # a command must not stop delivery
                    log.exception("remote command %s failed", command.get("kind"))
                    ok, detail = False, f"{type(e).__name__}: {e}"
            ack = {"command_id": cid, "ok": bool(ok), "detail": str(detail)[:500]}
            self._carried_out[cid] = ack
            if len(self._carried_out) > 256:
                self._carried_out.pop(next(iter(self._carried_out)))
            self._acks.append(ack)
        return bool(self._acks)

    def run_once(self, *, ignore_backoff: bool = False) -> bool | None:
        """Deliver one row. None: nothing to do; True: it went (or was refused for good);
        False: it must wait (backend unreachable)."""
        with self._busy:
            item = self.outbox.claim(ignore_backoff=ignore_backoff)
            if item is None:
                return None
            return self._deliver(item)

    def _deliver(self, item: OutboxItem) -> bool:
        try:
            sender = self.senders.get(item.kind)
            if sender is not None:
                sender(item)
            else:
                self.client.deliver(item.kind, item.payload, item.key)
        except BackendError as e:
            status = getattr(e, "status", None)
            if isinstance(e, BackendUnavailableError) or e.retryable or status == 401:
                self._retry(item, e)
                return False
            log.warning("outbox: %s %s refused for good: %s", item.kind, item.key, e)
            self.outbox.mark_failed(item.seq, f"{e.code}: {e}")
            self._set_online(True)  # it answered, so it is there
            return True
        except Exception as e:  # a bug must not kill the worker or lose the row
            log.exception("outbox: unexpected error delivering %s", item.key)
            self._retry(item, e)
            return False
        self.outbox.mark_done(item.seq)
        self.delivered += 1
        if not self.online or self._failures_in_row:
            self.outbox.release_backoff()  # back online: the rest need not wait out their back-off
        self._failures_in_row = 0
        self._set_online(True)
        return True

    def _retry(self, item: OutboxItem, e: Exception) -> None:
        self._failures_in_row += 1
        delay = min(self.backoff_max_s, self.backoff_base_s * 2 ** min(item.attempts - 1, 16))
        delay *= random.uniform(
            0.5, 1.0
        )  # terminals that lost the network together must not return together
        self.last_error = f"{type(e).__name__}: {e}"
        self.outbox.mark_retry(item.seq, self.last_error, delay)
        if isinstance(e, BackendUnavailableError) or getattr(e, "status", None) == 401:
            pause = min(
                self.backoff_max_s, self.backoff_base_s * 2 ** min(self._failures_in_row - 1, 16)
            )
            self._pause_until = time.time() + pause * random.uniform(0.5, 1.0)
            self._set_online(False)

    def _set_online(self, online: bool) -> None:
        if online == self.online:
            return
        self.online = online
        log.info("backend %s", "reachable again" if online else f"unreachable: {self.last_error}")
        if self.on_online_change is not None:
            try:
                self.on_online_change(online)
            except Exception:  # a UI callback must not stop delivery
                log.exception("on_online_change callback failed")
