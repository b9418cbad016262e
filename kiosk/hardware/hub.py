"""The device hub: builds every configured device, watches it, and says what is usable.

One place for the rest of the kiosk to ask "can I offer this item now, and if not, why?".
The hub builds each device from its config section through the family's ``build(cfg)``
(imported lazily, so a family that is missing or broken only takes its own device down),
starts it, and polls ``status()`` / ``paper()`` every ``watch_interval_s``.

Status is debounced the way the Odoo IoT box drops devices: a device is reported down only
after ``miss_threshold`` consecutive bad readings, and up again at once, so a reader that
flickers for a second does not blank half the home screen. A device whose build or start
raises is reported at once (there is no "up" to protect) and rebuilt later with back-off.

Events from devices go to the sink unchanged, except STATUS and PAPER, which the hub turns
into its own debounced, de-duplicated STATUS / PAPER events. The sink is called on worker
threads: the UI wraps it to hop onto its own thread. No kivy here.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, Literal, cast, overload

from kiosk.config import DevicesConfig
from kiosk.errors import DeviceNotFoundError
from kiosk.hardware.base import (
    CardReader,
    Device,
    DeviceEvent,
    DeviceStatus,
    EventKind,
    EventSink,
    PaperStatus,
    RatingPad,
    ReceiptPrinter,
)

log = logging.getLogger(__name__)

#: device name -> "module:function" of the family's ``build(cfg) -> (device, emulator | None)``
DEFAULT_BUILDERS: dict[str, str] = {
    "idcard": "kiosk.hardware.idcard:build",
    "sscard": "kiosk.hardware.sscard:build",
    "printer": "kiosk.hardware.printer:build",
    "ratingpad": "kiosk.hardware.ratingpad:build",
    "scanner": "kiosk.hardware.scanner:build",
    "camera": "kiosk.hardware.camera:build",
}

DEVICE_NAMES_ZH = {
    "idcard": "身份证阅读器",
    "sscard": "社保卡读卡器",
    "printer": "打印机",
    "ratingpad": "评价器",
    "scanner": "扫码器",
    "camera": "高拍仪",
}
DEVICE_NAMES_EN = {
    "idcard": "ID card reader",
    "sscard": "social security card reader",
    "printer": "printer",
    "ratingpad": "evaluation pad",
    "scanner": "QR code scanner",
    "camera": "document camera",
}

#: longest wait between two attempts to build a device that failed
MAX_RETRY_S = 60.0


@dataclass(frozen=True)
class DeviceSnapshot:
    name: str
    status: DeviceStatus
    paper: PaperStatus | None  # None for devices without paper
    last_error: str  # technician text, no personal data
    since: float  # time.time() when ``status`` last changed


@dataclass
class _Slot:
    """What the hub knows about one configured device (guarded by the hub's lock)."""

    name: str
    cfg: Any
    snapshot: DeviceSnapshot
    fitted: bool = True  # False for driver = "none"
    device: Device | None = None
    emulator: Any = None
    misses: int = 0
    build_error: str = ""
    retry_at: float = 0.0
    retry_s: float = 0.0


def resolve_builder(builder: str | Callable[..., Any]) -> Callable[..., Any]:
    if callable(builder):
        return builder
    module_name, _, func = builder.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name and (module_name == e.name or module_name.startswith(e.name + ".")):
            raise DeviceNotFoundError(f"driver module {module_name} is not installed") from e
        raise
    return getattr(module, func)


class DeviceHub:
    def __init__(
        self,
        devices: DevicesConfig,
        *,
        builders: dict[str, Callable[..., Any]] | None = None,
        miss_threshold: int = 3,
        watch_interval_s: float = 2.0,
    ) -> None:
        if miss_threshold < 1 or watch_interval_s <= 0:
            raise ValueError("miss_threshold must be >= 1 and watch_interval_s > 0")
        self._config = devices
        self._builders: dict[str, str | Callable[..., Any]] = {
            **DEFAULT_BUILDERS,
            **(builders or {}),
        }
        self.miss_threshold = miss_threshold
        self.watch_interval_s = watch_interval_s
        self._lock = threading.RLock()
        self._poll_lock = threading.Lock()  # one poll at a time, or a failed device is built twice
        self._slots: dict[str, _Slot] = {}
        self._sink: EventSink | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        now = time.time()
        for name in DEFAULT_BUILDERS:  # the devices the hub drives (the A4 printer is spooled by CUPS)
            cfg = getattr(devices, name)
            fitted = getattr(cfg, "driver", "none") != "none"
            why = "not started" if fitted else "not fitted (driver = none)"
            snap = DeviceSnapshot(name, DeviceStatus.NO_DEVICE, None, why, now)
            self._slots[name] = _Slot(name, cfg, snap, fitted=fitted)

    # --- lifecycle ------------------------------------------------------------------------

    def start(self, sink: EventSink) -> None:
        """Build and start every fitted device, then watch them on one background thread.

        Builders run here, one after the other: a family's ``build`` must not block on its
        hardware (``Device.start`` never does either). A hub is started once."""
        if self._thread is not None or self._stop.is_set():
            return
        self._sink = sink
        for slot in self._slots.values():
            if slot.fitted:
                self._build(slot)
        self._thread = threading.Thread(target=self._watch, name="device-hub", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the watcher, every device and every emulator. Idempotent."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        with self._lock:
            slots = list(self._slots.values())
        for slot in slots:
            self._teardown(slot)

    # --- queries --------------------------------------------------------------------------

    # each name is built by its own family (``DEFAULT_BUILDERS``), so its device plays that role
    @overload
    def device(self, name: Literal["printer"]) -> ReceiptPrinter | None: ...
    @overload
    def device(self, name: Literal["idcard", "sscard"]) -> CardReader | None: ...
    @overload
    def device(self, name: Literal["ratingpad"]) -> RatingPad | None: ...
    @overload
    def device(self, name: str) -> Device | None: ...

    def device(self, name: str) -> Device | None:
        with self._lock:
            slot = self._slots.get(name)
            return cast(Device | None, slot.device) if slot else None

    def emulator(self, name: str) -> Any | None:
        with self._lock:
            slot = self._slots.get(name)
            return slot.emulator if slot else None

    def snapshot(self) -> dict[str, DeviceSnapshot]:
        with self._lock:
            return {name: slot.snapshot for name, slot in self._slots.items()}

    def unavailable_reason(self, needs: Iterable[str]) -> tuple[str, str] | None:
        """None when every named device is usable; else (reason_zh, reason_en) for the first
        one that is not, in resident-facing words."""
        snaps = self.snapshot()
        for name in needs:
            zh = DEVICE_NAMES_ZH.get(name, name)
            en = DEVICE_NAMES_EN.get(name, name)
            snap = snaps.get(name)
            if snap is None or (snap.status is DeviceStatus.NO_DEVICE and not self._fitted(name)):
                return f"本终端未配备{zh}", f"This terminal has no {en}"
            if snap.status is DeviceStatus.NO_DEVICE:
                return f"{zh}未连接", f"The {en} is not connected"
            if snap.status is DeviceStatus.OFFLINE:
                return f"{zh}暂时离线", f"The {en} is offline"
            # paper before the other statuses: a printer may report paper out as a user error
            if snap.paper is PaperStatus.OUT:
                return f"{zh}缺纸", f"The {en} is out of paper"
            if snap.status is DeviceStatus.HARDWARE_ERROR:
                return f"{zh}故障", f"The {en} has a fault"
            if snap.status is DeviceStatus.USER_ERROR:
                return f"{zh}需要工作人员处理", f"The {en} needs attention from staff"
        return None

    def fitted(self, name: str) -> bool:
        """The config fits this device (its driver is not "none"), whatever its state now."""
        return self._fitted(name)

    def _fitted(self, name: str) -> bool:
        with self._lock:
            slot = self._slots.get(name)
            return slot is not None and slot.fitted

    # --- actions --------------------------------------------------------------------------

    def reconnect(self, name: str) -> None:
        """Technician action: reopen a running device, or retry building a failed one now.
        May block on the device's transport: call it from a worker, not the UI thread."""
        with self._lock:
            slot = self._slots.get(name)
            if slot is None or not slot.fitted:
                return
            device = slot.device
            if device is None:
                slot.retry_at, slot.retry_s = 0.0, 0.0
        if device is not None:
            device.reconnect()
        self._wake.set()

    # --- building -------------------------------------------------------------------------

    def _build(self, slot: _Slot) -> None:
        """Build and start one device; on failure record why and schedule a retry."""
        try:
            built = resolve_builder(self._builders[slot.name])(slot.cfg)
            device, emulator = built if isinstance(built, tuple) else (built, None)
        except Exception as e:  # any family bug must only take its own device down
            self._build_failed(slot, e, None)
            return
        try:
            device.start(lambda event, name=slot.name: self._on_event(name, event))
        except Exception as e:
            self._build_failed(slot, e, emulator)
            _quietly(device.stop)
            return
        with self._lock:
            stopped = self._stop.is_set()
            if not stopped:
                slot.device, slot.emulator = device, emulator
                slot.build_error, slot.retry_s = "", 0.0
        if stopped:  # stop() ran while this was being built: nobody would ever stop it
            self._teardown(
                _Slot(slot.name, slot.cfg, slot.snapshot, device=device, emulator=emulator)
            )
            return
        log.info("device %s built (%s)", slot.name, type(device).__name__)
        self._reading(slot, initial=True)

    def _build_failed(self, slot: _Slot, err: Exception, emulator: Any) -> None:
        if emulator is not None and hasattr(emulator, "stop"):
            _quietly(emulator.stop)
        status = (
            DeviceStatus.NO_DEVICE
            if isinstance(err, DeviceNotFoundError)
            else DeviceStatus.HARDWARE_ERROR
        )
        text = f"cannot start {slot.name}: {err}"
        with self._lock:
            if text != slot.build_error:
                log.error("%s", text, exc_info=not isinstance(err, DeviceNotFoundError))
            slot.build_error = text
            slot.retry_s = min(MAX_RETRY_S, max(self.watch_interval_s, slot.retry_s * 2))
            slot.retry_at = time.monotonic() + slot.retry_s
        self._publish(slot, status, slot.snapshot.paper, text, force=True)

    def _teardown(self, slot: _Slot) -> None:
        with self._lock:
            device, emulator = slot.device, slot.emulator
            slot.device = slot.emulator = None
        if device is not None:
            _quietly(device.stop)
        if emulator is not None and hasattr(emulator, "stop"):
            _quietly(emulator.stop)

    # --- watching -------------------------------------------------------------------------

    def _watch(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.watch_interval_s)
            self._wake.clear()
            self.poll()

    def poll(self) -> None:
        """Take one reading of every device now and retry builds that are due. The watcher
        does this every ``watch_interval_s``; the admin screen may call it for a fresh view.
        Blocking only as long as the devices' ``status()`` calls."""
        with self._poll_lock:
            for slot in list(self._slots.values()):
                self._poll_one(slot)

    def _poll_one(self, slot: _Slot) -> None:
        if self._stop.is_set() or not slot.fitted:
            return
        if slot.device is None:
            if time.monotonic() >= slot.retry_at:
                self._build(slot)
            return
        self._reading(slot)

    def _reading(self, slot: _Slot, *, initial: bool = False) -> None:
        """Take one reading of a built device and apply the debounce."""
        device = slot.device
        if device is None:
            return
        try:
            status = device.status()
            paper_fn = getattr(device, "paper", None)
            paper = paper_fn() if callable(paper_fn) else None
            error = device.last_error()
        except Exception as e:  # a device whose status() raises is broken, not the hub
            log.exception("reading %s failed", slot.name)
            status, paper, error = (
                DeviceStatus.HARDWARE_ERROR,
                slot.snapshot.paper,
                f"status query failed: {e}",
            )
        self._apply(slot, status, paper, error, counts=True, initial=initial)

    def _apply(
        self,
        slot: _Slot,
        status: DeviceStatus,
        paper: PaperStatus | None,
        error: str,
        *,
        counts: bool,
        initial: bool = False,
    ) -> None:
        with self._lock:
            current = slot.snapshot.status
            if status.usable:
                slot.misses = 0
            elif counts:
                slot.misses += 1
            if status.usable or initial or not current.usable:
                shown = status  # up at once; already down: show the newest reason
            elif slot.misses >= self.miss_threshold:
                shown = status
            else:
                shown = current  # a bad reading that may be a flicker: keep what we showed
            # decided and recorded under one lock hold, so a reading taken just before a
            # device's own "I am up" event cannot overwrite it with a stale status
            events = self._update(
                slot, shown, paper, error if shown is status else slot.snapshot.last_error
            )
        self._send_all(events)

    def _publish(
        self,
        slot: _Slot,
        status: DeviceStatus,
        paper: PaperStatus | None,
        error: str,
        *,
        force: bool = False,
    ) -> None:
        with self._lock:
            events = self._update(slot, status, paper, error, force=force)
        self._send_all(events)

    def _update(
        self,
        slot: _Slot,
        status: DeviceStatus,
        paper: PaperStatus | None,
        error: str,
        *,
        force: bool = False,
    ) -> list[DeviceEvent]:
        """Record a new snapshot (the caller holds the lock); return the events it makes."""
        events: list[DeviceEvent] = []
        old = slot.snapshot
        new = replace(old, status=status, paper=paper, last_error=error)
        if status is not old.status:
            new = replace(new, since=time.time())
            events.append(DeviceEvent(slot.name, EventKind.STATUS, status))
            log.info("device %s: %s -> %s%s", slot.name, old.status, status, f" ({error})" if error else "")
        elif force and error != old.last_error:
            events.append(DeviceEvent(slot.name, EventKind.ERROR, error))
        if paper is not None and paper is not old.paper:
            events.append(DeviceEvent(slot.name, EventKind.PAPER, paper))
        slot.snapshot = new
        return events

    def _send_all(self, events: list[DeviceEvent]) -> None:
        for event in events:
            self._send(event)

    def _on_event(self, name: str, event: DeviceEvent) -> None:
        """Events from a device's own thread."""
        slot = self._slots.get(name)
        if slot is None or self._stop.is_set():
            return
        if event.kind is EventKind.STATUS and isinstance(event.payload, DeviceStatus):
            # only "up" is taken straight away; "down" waits for the watcher's readings
            if event.payload.usable:
                with self._lock:
                    device = slot.device
                self._apply(
                    slot,
                    event.payload,
                    slot.snapshot.paper,
                    device.last_error() if device else "",
                    counts=False,
                )
            return
        if event.kind is EventKind.PAPER and isinstance(event.payload, PaperStatus):
            with self._lock:
                snap = slot.snapshot
                events = self._update(slot, snap.status, event.payload, snap.last_error)
            self._send_all(events)
            return
        self._send(event)

    def _send(self, event: DeviceEvent) -> None:
        sink = self._sink
        if sink is None:
            return
        try:
            sink(event)
        except Exception:  # the sink belongs to the UI; its bugs must not stop the devices
            log.exception("device event sink failed on %s %s", event.device, event.kind)


def _quietly(fn: Callable[[], object]) -> None:
    try:
        fn()
    except Exception:
        log.exception("ignored failure in %s", getattr(fn, "__qualname__", fn))
