"""What a technician can do on site, as plain objects over the running ``Kiosk``.

The admin screens call these (through the UI worker for anything that blocks); the
``kiosk admin`` command and the tests call them directly. Every action that changes
something or shows transaction data is written to the audit trail, whether it worked or not.
Reading device status is not audited: the screen refreshes it every few seconds.

Leaving the admin screens: logging in switches the terminal out of service (residents see
暂停服务 while a technician works). When the session ends the terminal goes back into
service unless the technician switched it out of service explicitly, or it already was out
of service when the session began: a technician who walks away never leaves the terminal
closed by accident, and one who closed it on purpose finds it still closed.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kiosk import __version__
from kiosk.admin.audit import Audit, scrub
from kiosk.admin.logs import recent_lines
from kiosk.errors import DeviceNotFoundError, DeviceTimeoutError, KioskError, StoreError
from kiosk.hardware.base import DeviceEvent, EventKind, PaperStatus
from kiosk.hardware.hub import DEVICE_NAMES_EN, DEVICE_NAMES_ZH
from kiosk.identity import SocialSecurityCard
from kiosk.receipt import PrintJob, Receipt

if TYPE_CHECKING:
    from pathlib import Path

    from kiosk.bootstrap import Kiosk

log = logging.getLogger(__name__)

#: ``kiosk run`` exits with this after an admin restart. systemd's ``Restart=always``
#: restarts the unit whatever the exit code; the distinct code (EX_TEMPFAIL) tells the
#: journal that the restart was asked for, and lets a ``Restart=on-failure`` unit use
#: ``RestartForceExitStatus=75``.
RESTART_EXIT_CODE = 75

#: a typical 80 mm x 50 m thermal roll; the near-end warning comes at 90 % of it
ROLL_LENGTH_MM = 50_000.0
NEAR_END_FRACTION = 0.9

STATUS_ZH = {
    "online": "正常", "offline": "离线", "no_device": "未连接", "hardware_error": "硬件故障",
    "user_error": "需人工处理", "busy": "忙",
}
PAPER_ZH = {"full": "纸量充足", "low": "纸将用尽", "out": "缺纸", "unknown": "未知"}
JOURNAL_STATUS_ZH = {"completed": "办结", "failed": "失败", "cancelled": "取消", "paid_unconfirmed": "已付待确认",
                     "started": "办理中", "printing": "打印中", "paying": "支付中"}


class AdminError(KioskError):
    """A technician action cannot be done (device missing, export medium absent...)."""

    message_zh = "操作未完成"
    message_en = "The action could not be done"


@dataclass(frozen=True)
class DeviceRow:
    name: str
    name_zh: str
    name_en: str
    status: str  # the hub's vocabulary (XFS): online, offline, no_device, ...
    status_zh: str
    paper: str  # "" for devices without paper
    last_error: str
    since: float  # time.time() of the last status change

    @property
    def since_text(self) -> str:
        return dt.datetime.fromtimestamp(self.since).strftime("%m-%d %H:%M:%S")


@dataclass(frozen=True)
class PaperInfo:
    status: str  # PaperStatus value
    receipts: int
    used_mm: float
    roll_length_mm: float
    near_end: bool  # the sensor says low, or the counter says the roll is nearly used

    @property
    def used_fraction(self) -> float:
        return min(1.0, self.used_mm / self.roll_length_mm) if self.roll_length_mm else 0.0


class EventWaiter:
    """Device events for the self-tests. The view (or a script) offers every hub event;
    a self-test waits on a worker thread for the next matching one."""

    def __init__(self, keep: int = 64) -> None:
        self._cond = threading.Condition()
        self._events: list[tuple[int, DeviceEvent]] = []
        self._count = 0
        self._keep = keep

    def mark(self) -> int:
        """A position: ``wait`` only sees events offered after it."""
        with self._cond:
            return self._count

    def offer(self, event: DeviceEvent) -> None:
        with self._cond:
            self._count += 1
            self._events.append((self._count, event))
            del self._events[: -self._keep]
            self._cond.notify_all()

    def wait(self, device: str, kinds: tuple[EventKind, ...], timeout_s: float, after: int) -> DeviceEvent | None:
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                for n, event in self._events:
                    if n > after and event.device == device and event.kind in kinds:
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)


def describe_card(card: Any) -> str:
    """A card read for the self-test, masked."""
    if isinstance(card, SocialSecurityCard):
        return f"社保卡 {card.masked_card_number} {card.identity.masked_name} {card.identity.masked_id}"
    name = getattr(card, "masked_name", "")
    number = getattr(card, "masked_id", "")
    return f"证件 {name} {number}".strip()


class AdminActions:
    """The technician's actions on one running kiosk."""

    def __init__(
        self,
        kiosk: Kiosk,
        audit: Audit | None = None,
        *,
        roll_length_mm: float = ROLL_LENGTH_MM,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.kiosk = kiosk
        self.audit = audit or Audit(kiosk.outbox, kiosk.config.terminal.id)
        self.roll_length_mm = roll_length_mm
        self.now = now
        self.events = EventWaiter()
        self._closed_before = False
        self._closed_on_purpose = False

    # --- plumbing ------------------------------------------------------------------------------

    def offer_event(self, event: DeviceEvent) -> None:
        """Every device event while the admin screens are up (for the self-tests)."""
        self.events.offer(event)

    @contextmanager
    def _audited(self, action: str, detail: str = "") -> Iterator[dict[str, str]]:
        """Run an action and audit it; the block may add to ``note["detail"]``."""
        note = {"detail": detail}
        try:
            yield note
        except Exception as e:
            self.audit.record(action, f"{note['detail']} {type(e).__name__}: {e}".strip(), "failed")
            raise
        self.audit.record(action, note["detail"], "ok")

    def _device(self, name: str) -> Any:
        device = self.kiosk.hub.device(name)
        if device is None:
            snap = self.kiosk.hub.snapshot().get(name)
            why = snap.last_error if snap else "not configured"
            raise DeviceNotFoundError(f"{name} is not running: {why}")
        return device

    # --- the admin session ---------------------------------------------------------------------

    def login(self, result_kind: str, attempts_left: int = 0) -> None:
        """Audit a PIN attempt; a good one starts the session (the terminal closes)."""
        if result_kind == "ok":
            journey = self.kiosk.journey
            self._closed_before = journey.maintenance
            self._closed_on_purpose = False
            journey.maintenance = True
            self.audit.record("login", "admin session started; out of service", "ok")
        elif result_kind == "wrong":
            self.audit.record("login", f"wrong PIN, {attempts_left} attempt(s) left", "refused")
        else:
            self.audit.record("login", f"entry {result_kind}", "refused")

    def in_service_after_logout(self) -> bool:
        """Whether the terminal serves residents again when this session ends."""
        journey = self.kiosk.journey
        if not journey.maintenance:
            return True
        return not (self._closed_before or self._closed_on_purpose)

    def logout(self, reason: str = "exit") -> bool:
        """End the session ("exit" or "idle"); returns whether the terminal is in service."""
        in_service = self.in_service_after_logout()
        self.kiosk.journey.maintenance = not in_service
        self.audit.record("logout", f"{reason}; {'in service' if in_service else 'stays out of service'}", "ok")
        return in_service

    # --- devices -------------------------------------------------------------------------------

    def devices(self) -> list[DeviceRow]:
        rows = []
        for name, snap in self.kiosk.hub.snapshot().items():
            rows.append(DeviceRow(
                name=name,
                name_zh=DEVICE_NAMES_ZH.get(name, name),
                name_en=DEVICE_NAMES_EN.get(name, name),
                status=snap.status.value,
                status_zh=STATUS_ZH.get(snap.status.value, snap.status.value),
                paper=snap.paper.value if snap.paper is not None else "",
                last_error=scrub(snap.last_error),
                since=snap.since,
            ))
        return rows

    def refresh_devices(self) -> list[DeviceRow]:
        """A fresh reading of every device (blocking: worker thread)."""
        self.kiosk.hub.poll()
        return self.devices()

    def reconnect(self, name: str) -> None:
        with self._audited("reconnect", name):
            self.kiosk.hub.reconnect(name)
            self.kiosk.hub.poll()

    def self_test_print(self) -> str:
        """Print a test page. Blocking."""
        with self._audited("selftest_print", "test page") as note:
            printer = self._device("printer")
            stamp = dt.datetime.fromtimestamp(self.now())
            receipt = Receipt(
                title="打印机自检 Printer self-test",
                transaction_no=f"SELFTEST-{stamp:%Y%m%d%H%M%S}",
                issued_at=f"{stamp:%Y-%m-%d %H:%M:%S}",
                terminal_id=self.kiosk.config.terminal.id,
                lines=(
                    ("终端", self.kiosk.config.terminal.id),
                    ("软件版本", __version__),
                    ("中文", "政务服务自助终端 社会保障 䶮"),
                    ("ASCII", "0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
                ),
                qr_payload=f"SELFTEST {self.kiosk.config.terminal.id}",
                footer=("自检页，无需保留", "Test page: no need to keep"),
            )
            job = PrintJob(job_id=f"selftest-{uuid.uuid4().hex}", receipt=receipt)
            printer.print_job(job)
            note["detail"] = "test page printed"
            return "测试页已打印 Test page printed"

    def self_test_card(self, name: str, timeout_s: float = 30.0) -> str:
        """Wait for the next card on the ID-card or social-security-card reader; masked.
        Blocking: the view keeps offering device events meanwhile."""
        if name not in ("idcard", "sscard"):
            raise ValueError(f"{name} is not a card reader")
        after = self.events.mark()
        with self._audited(f"selftest_{name}", "waiting for a card") as note:
            self._device(name)
            event = self.events.wait(name, (EventKind.CARD_PLACED,), timeout_s, after)
            if event is None:
                raise DeviceTimeoutError(f"no card on the {name} reader within {timeout_s:g} s")
            note["detail"] = f"card read ({type(event.payload).__name__})"
            return describe_card(event.payload)

    def self_test_ratingpad(self, timeout_s: float = 30.0) -> str:
        """Light the pad and wait for a key. Blocking."""
        after = self.events.mark()
        with self._audited("selftest_ratingpad", "waiting for a key") as note:
            pad = self._device("ratingpad")
            pad.prompt(timeout_s)
            event = self.events.wait("ratingpad", (EventKind.RATING, EventKind.RATING_TIMEOUT), timeout_s + 2, after)
            if event is None or event.kind is EventKind.RATING_TIMEOUT:
                _quietly(pad.cancel)
                raise DeviceTimeoutError(f"no key pressed on the evaluation pad within {timeout_s:g} s")
            note["detail"] = f"key {event.payload} pressed"
            return f"评价器按键 {event.payload} 正常 Key {event.payload} received"

    # --- paper ---------------------------------------------------------------------------------

    def paper(self) -> PaperInfo:
        snap = self.kiosk.hub.snapshot().get("printer")
        status = snap.paper.value if snap is not None and snap.paper is not None else PaperStatus.UNKNOWN.value
        printer = self.kiosk.hub.device("printer")
        usage = printer.roll_usage() if printer is not None and hasattr(printer, "roll_usage") else {}
        used = float(usage.get("mm", 0.0))
        near_end = status in (PaperStatus.LOW.value, PaperStatus.OUT.value) or (
            used >= self.roll_length_mm * NEAR_END_FRACTION
        )
        return PaperInfo(status, int(usage.get("receipts", 0)), used, self.roll_length_mm, near_end)

    def reset_roll(self) -> None:
        """A new roll was fitted: the counter starts again."""
        with self._audited("paper_roll_reset") as note:
            before = self.paper()
            self._device("printer").reset_roll()
            note["detail"] = f"new roll; the old one printed {before.receipts} receipt(s), {before.used_mm:.0f} mm"

    # --- service on / off ----------------------------------------------------------------------

    def set_in_service(self, in_service: bool) -> None:
        with self._audited("service", "in service" if in_service else "out of service"):
            self.kiosk.journey.maintenance = not in_service
            self._closed_on_purpose = not in_service

    # --- outbox --------------------------------------------------------------------------------

    def outbox(self) -> dict[str, Any]:
        """The outbox figures; a lost or unreadable outbox gives ``problem`` and no figures."""
        try:
            stats = self.kiosk.outbox.stats()
            stats["problem"] = ""
        except StoreError as e:
            stats = {key: None for key in ("depth", "ready", "inflight", "done", "failed", "oldest_age_s")}
            stats |= {"pending_by_kind": {}, "last_error": "", "problem": scrub(str(e))}
        delivery = self.kiosk.delivery
        stats["delivery_error"] = scrub(getattr(delivery, "last_error", "") or "")
        stats["online"] = bool(getattr(delivery, "online", True))
        stats["last_error"] = scrub(stats.get("last_error", ""))
        return stats

    # --- storage -------------------------------------------------------------------------------

    def storage(self, refresh: bool = False) -> dict[str, Any]:
        """The data dir's free space, whether the store takes writes, and the matters a crash
        cut short (found at start-up, settled since). ``refresh`` looks again: blocking."""
        kiosk = self.kiosk
        state = kiosk.check_store() if refresh else kiosk.outbox.state()
        interrupted = [{k: row[k] for k in ("transaction_no", "item_name", "status", "at")}
                       for row in kiosk.journal.interrupted]
        return state.as_dict() | {
            "problem": scrub(state.problem),
            "summary": scrub(state.summary()),
            "interrupted": interrupted,
            "deferred": len(kiosk.journal.deferred()),
        }

    def deliver_now(self, timeout_s: float = 15.0) -> int:
        """Forced sync, ignoring back-off; returns the rows still waiting. Blocking."""
        with self._audited("deliver_now") as note:
            before = self.kiosk.outbox.depth()
            left = self.kiosk.delivery.flush(timeout_s)
            note["detail"] = f"{before} waiting before, {left} after"
            return left

    # --- journal and reprints ------------------------------------------------------------------

    def journal(self, days: int = 7, date: dt.date | None = None, item: str | None = None) -> list[dict[str, Any]]:
        """Masked journal rows, newest first: the last ``days`` days, or one ``date``."""
        detail = f"date {date}" if date else f"last {days} day(s)"
        with self._audited("journal_view", detail + (f", item {item}" if item else "")) as note:
            if date is not None:
                span = max(1, (dt.date.fromtimestamp(self.now()) - date).days + 1)
                rows = [r for r in self.kiosk.journal.recent(span, item) if dt.date.fromtimestamp(r["at"]) == date]
            else:
                rows = self.kiosk.journal.recent(days, item)
            note["detail"] += f": {len(rows)} row(s)"
            return rows

    def reprint(self, transaction_no: str) -> str:
        """Print a copy (补打) of a journal entry's receipt. Blocking."""
        with self._audited("reprint", transaction_no):
            rows = self.kiosk.outbox.query(
                "SELECT item_name, masked_name, masked_id, amount_fen, order_no, status, at"
                " FROM journal WHERE transaction_no = ?",
                (transaction_no,),
            )
            if not rows:
                raise AdminError(f"no journal entry {transaction_no}")
            item_name, masked_name, masked_id, amount, order_no, status, at = rows[0]
            lines = [("事项 Item", item_name), ("办理时间 Time", f"{dt.datetime.fromtimestamp(at):%Y-%m-%d %H:%M:%S}"),
                     ("状态 Status", JOURNAL_STATUS_ZH.get(status, status))]
            if masked_name:
                lines.append(("姓名 Name", masked_name))
            if masked_id:
                lines.append(("证件号码 ID", masked_id))
            if order_no:
                lines.append(("订单号 Order", order_no))
            receipt = Receipt(
                title=item_name,
                transaction_no=transaction_no,
                issued_at=f"{dt.datetime.fromtimestamp(self.now()):%Y-%m-%d %H:%M:%S}",
                terminal_id=self.kiosk.config.terminal.id,
                lines=tuple(lines),
                amount_fen=amount,
                footer=("补打凭条，与原凭条内容一致", "Copy of the original receipt"),
                is_copy=True,
            )
            # a reprint is a new job on purpose: each request prints one copy
            self._device("printer").print_job(PrintJob(f"reprint-{transaction_no}-{uuid.uuid4().hex[:8]}", receipt))
            return "补打完成 Copy printed"

    # --- logs, config, version -----------------------------------------------------------------

    def logs(self, n: int = 200) -> list[str]:
        cfg = self.kiosk.config
        log_file = cfg.resolve(cfg.logging.file) if cfg.logging.file else None
        with self._audited("logs_view", f"last {n} line(s)"):
            return recent_lines(log_file, n)

    def effective_config(self) -> dict[str, Any]:
        """The running config with secrets hidden."""
        from kiosk.admin.diagnostics import redacted_config

        with self._audited("config_view"):
            return redacted_config(self.kiosk.config)

    def version(self) -> dict[str, str]:
        from kiosk.admin.diagnostics import version_info

        return version_info()

    def export_diagnostics(self, dest_dir: Path | None = None) -> Path:
        """Write the diagnostics bundle (no personal data) to ``dest_dir`` or ``export_dir``."""
        from kiosk.admin.diagnostics import write_bundle

        cfg = self.kiosk.config
        target = dest_dir if dest_dir is not None else cfg.resolve(cfg.admin.export_dir)
        with self._audited("export_diagnostics", str(target)) as note:
            if not target.is_dir():
                raise AdminError(
                    f"{target} is not there (is the USB stick plugged in?)",
                    message_zh="未找到导出介质，请插入U盘", message_en="No export medium: plug in the USB stick",
                )
            path = write_bundle(self, target)
            note["detail"] = f"{path.name} written to {target}"
            return path

    def restart(self) -> int:
        """Audit the restart and return the exit code; the view stops the app with it."""
        self.audit.record("restart", f"application restart requested (exit {RESTART_EXIT_CODE})", "ok")
        return RESTART_EXIT_CODE


class RemoteCommands:
    """Commands from the fleet console, carried out on the delivery thread (they arrive in the
    heartbeat's answer). Each is audited as ``remote_<kind>`` with the console's command id.
    Returns (worked, detail) for the acknowledgement; a bad command is refused, never guessed.
    """

    #: longest notice on the idle screen, per language
    NOTICE_MAX = 120

    def __init__(self, actions: AdminActions) -> None:
        self.actions = actions

    def __call__(self, command: dict[str, Any]) -> tuple[bool, str]:
        kind = str(command.get("kind", ""))
        args = command.get("args") or {}
        cid = command.get("command_id")
        handler = getattr(self, f"_{kind}", None)
        if handler is None:
            self.actions.audit.record(f"remote_{kind}"[:64], f"#{cid}: unknown command", "refused")
            return False, f"unknown command {kind!r}"
        try:
            detail = handler(args, cid)
        except (KioskError, ValueError, OSError) as e:
            self.actions.audit.record(f"remote_{kind}", f"#{cid}: {type(e).__name__}: {e}", "failed")
            return False, scrub(f"{type(e).__name__}: {e}")
        self.actions.audit.record(f"remote_{kind}", f"#{cid}: {detail}", "ok")
        return True, detail

    def _out_of_service(self, args: dict, cid: Any) -> str:
        self.actions.kiosk.journey.maintenance = True
        self.actions._closed_on_purpose = True
        return "out of service"

    def _in_service(self, args: dict, cid: Any) -> str:
        self.actions.kiosk.journey.maintenance = False
        self.actions._closed_on_purpose = False
        return "in service"

    def _reconnect(self, args: dict, cid: Any) -> str:
        name = str(args.get("device", ""))
        if name not in self.actions.kiosk.hub.snapshot():
            raise ValueError(f"no device {name!r} on this terminal")
        self.actions.kiosk.hub.reconnect(name)
        self.actions.kiosk.hub.poll()
        snap = self.actions.kiosk.hub.snapshot()[name]
        return f"{name} reconnected: {snap.status.value}"

    def _diagnostics(self, args: dict, cid: Any) -> str:
        import tempfile
        from pathlib import Path

        from kiosk.admin.diagnostics import write_bundle

        with tempfile.TemporaryDirectory(prefix="kiosk-diag-") as folder:
            path = write_bundle(self.actions, Path(folder))
            data = path.read_bytes()
            self.actions.kiosk.backend.upload_diagnostics(path.name, data, f"diag-{cid}", command_id=cid)
        return f"{path.name} uploaded ({len(data)} bytes)"

    def _notice(self, args: dict, cid: Any) -> str:
        zh = " ".join(str(args.get("text_zh", "")).split())[: self.NOTICE_MAX]
        en = " ".join(str(args.get("text_en", "")).split())[: self.NOTICE_MAX]
        self.actions.kiosk.set_notice(zh, en)
        return f"notice shown: {zh} / {en}" if zh or en else "notice cleared"


def _quietly(fn: Callable[[], object]) -> None:
    try:
        fn()
    except (KioskError, OSError) as e:
        log.debug("ignored: %s", e)


__all__ = [
    "RESTART_EXIT_CODE", "AdminActions", "AdminError", "DeviceRow", "EventWaiter", "PaperInfo",
    "RemoteCommands", "describe_card",
]
