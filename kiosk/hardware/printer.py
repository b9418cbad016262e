"""The receipt printer driver: python-escpos transports, real-time status, jobs printed once.

``EscposReceiptPrinter`` satisfies ``kiosk.hardware.base.ReceiptPrinter``. It talks to a
python-escpos ``Network``, ``Serial`` or ``Usb`` printer object, asks the printer itself for
its state (``DLE EOT 1`` / ``2`` / ``4``), and treats silence as "unknown", never as "ok".
A job is checked before it is sent, in the same conversation and whatever the last poll said,
and confirmed after (``GS r 1`` answers once the print
buffer has drained, then ``DLE EOT`` again): if the paper ran out part-way the job stays
unprinted so that it is reprinted whole on new paper, and a job that completed is never
sent again, whoever retries it.

python-escpos is imported inside functions: importing it creates a temp folder, and this
module must import cheaply.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlparse

from kiosk.errors import ConfigError, PaperOutError, PrinterError
from kiosk.hardware.base import DeviceEvent, DeviceStatus, EventKind, EventSink, PaperStatus
from kiosk.hardware.receipt_escpos import receipt_length_mm, render_receipt
from kiosk.receipt import PrintJob

log = logging.getLogger(__name__)

DLE_EOT = b"\x10\x04"
GS_R_PAPER = b"\x1dr\x01"
COMPLETED_JOBS_KEPT = 4096


class _LinkDown(Exception):
    """The transport failed; the driver closes it and reports NO_DEVICE."""


class RollStore(Protocol):
    """Where the paper-roll counter is kept across restarts (``kiosk.store.counters`` slot)."""

    def load(self) -> dict[str, Any]: ...

    def save(self, value: dict[str, Any]) -> None: ...


class EscposReceiptPrinter:
    """A receipt printer behind a python-escpos printer object (built by ``make_printer``)."""

    name = "printer"

    def __init__(
        self,
        make_printer: Callable[[], Any],
        *,
        describe: str,
        encoding: str = "gb18030",
        width_chars: int = 32,
        status_timeout_s: float = 1.0,
        drain_timeout_s: float = 10.0,
        confirm_drain: bool = True,
        poll_interval_s: float = 3.0,
        roll_store: RollStore | None = None,
    ) -> None:
        self._make_printer = make_printer
        self.describe = describe  # where the printer is, for technicians
        self.encoding = encoding
        self.width_chars = width_chars
        self.status_timeout_s = status_timeout_s
        self.drain_timeout_s = drain_timeout_s
        self.confirm_drain = confirm_drain  # False for printers that never answer GS r 1
        self.poll_interval_s = poll_interval_s
        self._printer: Any = None
        self._io = threading.RLock()  # one conversation with the printer at a time
        self._job_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._status = DeviceStatus.NO_DEVICE
        self._paper = PaperStatus.UNKNOWN
        self._last_error = ""
        self._sink: EventSink | None = None
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None
        self._completed: OrderedDict[str, None] = OrderedDict()
        #: jobs that came out of the printer since start: the journey compares it across a
        #: visit to know whether the resident has paper to take
        self.jobs_completed = 0
        self._roll_store = roll_store
        saved = self._load_roll()
        self._roll_bytes = int(saved.get("bytes", 0))
        self._roll_receipts = int(saved.get("receipts", 0))
        self._roll_mm = float(saved.get("mm", 0.0))

    # --- Device -------------------------------------------------------------------------------

    def start(self, sink: EventSink) -> None:
        self._sink = sink
        self._stop.clear()
        if self._poller is None or not self._poller.is_alive():
            self._poller = threading.Thread(target=self._poll, name="printer-status", daemon=True)
            self._poller.start()

    def stop(self) -> None:
        self._stop.set()
        if self._poller is not None and self._poller is not threading.current_thread():
            self._poller.join(timeout=self.status_timeout_s * 3 + 2)
        self._poller = None
        with self._io:
            self._close()

    def status(self) -> DeviceStatus:
        return self._status

    def paper(self) -> PaperStatus:
        return self._paper

    def last_error(self) -> str:
        return self._last_error

    def reconnect(self) -> None:
        with self._io:
            self._close()
        self.refresh_status()

    def refresh_status(self) -> tuple[DeviceStatus, PaperStatus]:
        with self._io:
            status, paper, why = self._query_status()
        self._publish(status, paper, why)
        return status, paper

    # --- printing -----------------------------------------------------------------------------

    def print_job(self, job: PrintJob) -> None:
        """Print ``job`` once. The printer is asked its real-time status (DLE EOT) right before
        the job, in the same conversation, whatever the last poll said: a printer out of paper,
        offline or silent gets nothing (``PaperOutError`` / ``PrinterError``)."""
        with self._job_lock:
            if job.printed:
                return
            if job.job_id in self._completed:
                job.printed = True  # printed by an earlier attempt with another job object
                return
            data = render_receipt(job.receipt, encoding=self.encoding, width_chars=self.width_chars)
            with self._io:  # nobody talks to the printer between its answer and the job
                status, paper, why = self._query_status()
                ready = status.usable and paper not in (PaperStatus.OUT, PaperStatus.UNKNOWN)
                if ready:
                    try:
                        self._send(data)
                        drained = (
                            self._exchange(GS_R_PAPER, self.drain_timeout_s)
                            if self.confirm_drain
                            else b""
                        )
                    except _LinkDown as e:
                        self._close()
                        self._publish(DeviceStatus.NO_DEVICE, PaperStatus.UNKNOWN, str(e))
                        self._fail(
                            job, PrinterError(f"{self.describe}: connection lost while printing: {e}")
                        )
                    after = self._query_status()
            self._publish(status, paper, why)
            if paper is PaperStatus.OUT:
                self._fail(job, PaperOutError(f"{self.describe}: out of paper; job not sent"))
            if not ready:
                self._fail(
                    job,
                    PrinterError(
                        f"{self.describe}: not ready ({status}, paper {paper}): {self._last_error}; job not sent"
                    ),
                )
            status, paper, why = after
            self._publish(status, paper, why)
            if paper is PaperStatus.OUT or (drained and drained[0] & 0x0C == 0x0C):
                self._fail(
                    job,
                    PaperOutError(
                        f"{self.describe}: paper ran out during the job; reprint after new paper"
                    ),
                )
            if not status.usable or paper is PaperStatus.UNKNOWN:
                self._fail(
                    job,
                    PrinterError(
                        f"{self.describe}: job not confirmed ({status}, paper {paper}): {why}"
                    ),
                )
            job.printed, job.last_error = True, ""
            self.jobs_completed += 1
            self._completed[job.job_id] = None
            while len(self._completed) > COMPLETED_JOBS_KEPT:
                self._completed.popitem(last=False)
            self._roll_bytes += len(data)
            self._roll_receipts += 1
            self._roll_mm += receipt_length_mm(job.receipt, width_chars=self.width_chars)
            self._save_roll()

    @staticmethod
    def _fail(job: PrintJob, error: PrinterError) -> None:
        job.last_error = str(error)
        raise error

    # --- the paper roll counter (admin screen) -------------------------------------------------

    def paper_used_mm(self) -> float:
        return self._roll_mm

    def roll_usage(self) -> dict[str, float]:
        return {
            "receipts": self._roll_receipts,
            "bytes": self._roll_bytes,
            "mm": round(self._roll_mm, 1),
        }

    def reset_roll(self) -> None:
        """A technician put in a new roll."""
        self._roll_bytes, self._roll_receipts, self._roll_mm = 0, 0, 0.0
        self._save_roll()

    def _load_roll(self) -> dict[str, Any]:
        if self._roll_store is None:
            return {}
        try:
            return self._roll_store.load()
        except Exception as e:  # noqa: BLE001 - a count lost is a warning, never a printer down
            log.warning("%s: paper roll counter not read, counting from 0: %s", self.describe, e)
            return {}

    def _save_roll(self) -> None:
        if self._roll_store is None:
            return
        try:
            self._roll_store.save(self.roll_usage())
        except Exception as e:  # noqa: BLE001 - the receipt is printed; only the count is not kept
            log.warning("%s: paper roll counter not saved: %s", self.describe, e)

    # --- talking to the printer (callers hold self._io) ---------------------------------------

    def _query_status(self) -> tuple[DeviceStatus, PaperStatus, str]:
        try:
            online = self._exchange(DLE_EOT + b"\x01", self.status_timeout_s)
            if not online:
                return (
                    DeviceStatus.OFFLINE,
                    PaperStatus.UNKNOWN,
                    f"{self.describe}: no answer to DLE EOT within {self.status_timeout_s:g} s",
                )
            roll = self._exchange(DLE_EOT + b"\x04", self.status_timeout_s)
            if not roll:
                return (
                    DeviceStatus.OFFLINE,
                    PaperStatus.UNKNOWN,
                    f"{self.describe}: no answer to the paper sensor query",
                )
            paper = _paper_from(roll[0])
            if not online[0] & 0x08:
                return DeviceStatus.ONLINE, paper, ""
            cause = self._exchange(DLE_EOT + b"\x02", self.status_timeout_s)
            status, why = _offline_cause(cause[0] if cause else None)
            return status, paper, f"{self.describe}: {why}"
        except _LinkDown as e:
            self._close()
            return DeviceStatus.NO_DEVICE, PaperStatus.UNKNOWN, str(e)

    def _open(self) -> Any:
        if self._printer is not None:
            return self._printer
        from escpos.exceptions import Error as EscposError

        try:
            printer = self._make_printer()
            printer.open()
        except (EscposError, OSError, ValueError) as e:
            raise _LinkDown(f"{self.describe}: cannot open: {_first_line(e)}") from e
        if isinstance(printer.device, socket.socket):
            # status queries are a few bytes each: without this, Nagle holds each one back
            # until the printer's delayed ACK of the job (about 40 ms per query)
            printer.device.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._printer = printer
        return printer

    def _close(self) -> None:
        printer, self._printer = self._printer, None
        if printer is not None:
            try:
                printer.close()
            except Exception as e:  # noqa: BLE001 - a broken transport may fail to close; it is gone either way
                log.debug("closing %s: %s", self.describe, e)

    def _send(self, data: bytes) -> None:
        printer = self._open()
        try:
            printer._raw(data)
        except (OSError, AssertionError) as e:  # AssertionError: escpos found no device
            raise _LinkDown(f"{self.describe}: send failed: {_first_line(e)}") from e

    def _exchange(self, command: bytes, timeout: float) -> bytes:
        """Send a query and return its answer; b'' when the printer stays silent."""
        printer = self._open()
        device = printer.device
        try:
            _drain(device)  # a late answer to an earlier query must not be read as this one's
            printer._raw(command)
            return _read_reply(printer, device, timeout)
        except (OSError, AssertionError) as e:
            raise _LinkDown(f"{self.describe}: {_first_line(e)}") from e

    # --- events -------------------------------------------------------------------------------

    def _publish(self, status: DeviceStatus, paper: PaperStatus, why: str) -> None:
        events = []
        with self._state_lock:
            if status is not self._status:
                events.append(DeviceEvent(self.name, EventKind.STATUS, status))
            if paper is not self._paper:
                events.append(DeviceEvent(self.name, EventKind.PAPER, paper))
            if why and why != self._last_error:
                events.append(DeviceEvent(self.name, EventKind.ERROR, why))
            self._status, self._paper, self._last_error = status, paper, why
        for event in events:
            if self._sink is not None:
                try:
                    self._sink(event)
                except Exception:  # a faulty listener must not stop the status poll
                    log.exception("printer event sink failed")

    def _poll(self) -> None:
        while not self._stop.is_set():
            if self._job_lock.acquire(blocking=False):  # a job reports status itself
                try:
                    self.refresh_status()
                except Exception:  # keep polling whatever happens: the kiosk runs for months
                    log.exception("printer status poll failed")
                finally:
                    self._job_lock.release()
            self._stop.wait(self.poll_interval_s)


def _paper_from(roll: int) -> PaperStatus:
    if roll & 0x60:  # bits 5-6: roll paper end
        return PaperStatus.OUT
    if roll & 0x0C:  # bits 2-3: near end
        return PaperStatus.LOW
    return PaperStatus.FULL


def _offline_cause(cause: int | None) -> tuple[DeviceStatus, str]:
    if cause is None:
        return DeviceStatus.OFFLINE, "offline (cause not reported)"
    if cause & 0x40:
        return DeviceStatus.HARDWARE_ERROR, "offline: printer error"
    if cause & 0x04:
        return DeviceStatus.USER_ERROR, "offline: cover open"
    if cause & 0x20:
        return DeviceStatus.OFFLINE, "offline: paper end"
    return DeviceStatus.OFFLINE, "offline"


def _first_line(e: BaseException) -> str:
    text = str(e).strip().replace("\n", " ")
    return text or e.__class__.__name__


def _drain(device: Any) -> None:
    if isinstance(device, socket.socket):
        timeout = device.gettimeout()
        device.setblocking(False)
        try:
            while device.recv(64):
                pass
        except BlockingIOError:
            pass
        finally:
            device.settimeout(timeout)
    elif hasattr(device, "reset_input_buffer"):  # pyserial
        device.reset_input_buffer()


def _read_reply(printer: Any, device: Any, timeout: float) -> bytes:
    if isinstance(device, socket.socket):
        previous = device.gettimeout()
        device.settimeout(timeout)
        try:
            data = device.recv(16)
        except TimeoutError:
            return b""
        finally:
            device.settimeout(previous)
        if not data:
            raise ConnectionResetError("the printer closed the connection")
        return data
    if hasattr(device, "reset_input_buffer"):  # pyserial: answers are one byte
        previous = device.timeout
        device.timeout = timeout
        try:
            return bytes(device.read(1))
        finally:
            device.timeout = previous
    try:  # USB: pyusb reads with a timeout in milliseconds
        return bytes(device.read(printer.in_ep, 16, int(timeout * 1000)))
    except OSError as e:
        if "timeout" in str(e).lower() or getattr(e, "errno", None) == 110:
            return b""
        raise


# --- the composition root's entry point --------------------------------------------------------


def network_printer(
    url: str, *, encoding: str = "gb18030", timeout_s: float = 5.0, **kw: Any
) -> EscposReceiptPrinter:
    """A driver for a network printer at ``tcp://HOST:PORT``."""
    parsed = urlparse(url)
    if parsed.scheme != "tcp" or not parsed.hostname or not parsed.port:
        raise ConfigError(f"bad printer URL {url!r}: expected tcp://HOST:PORT")
    host, port = parsed.hostname, parsed.port

    def make() -> Any:
        from escpos.printer import Network

        return Network(host, port, timeout=timeout_s)

    return EscposReceiptPrinter(make, describe=f"tcp://{host}:{port}", encoding=encoding, **kw)


def build(cfg: Any, *, width_chars: int = 32, **kw: Any) -> tuple[EscposReceiptPrinter, None]:
    """Build the printer from its config section (network, serial or USB). A simulated
    printer is built by the composition root from ``kiosk.sim``."""
    from kiosk.config import NetworkPrinter, NoDevice, SerialPrinter, UsbPrinter

    if isinstance(cfg, NetworkPrinter):
        return network_printer(
            cfg.url, encoding=cfg.encoding, timeout_s=cfg.timeout_s, width_chars=width_chars, **kw
        ), None
    if isinstance(cfg, SerialPrinter):

        def make_serial() -> Any:
            from escpos.printer import Serial

            return Serial(devfile=cfg.port, baudrate=cfg.baud, timeout=cfg.timeout_s)

        driver = EscposReceiptPrinter(
            make_serial, describe=cfg.port, encoding=cfg.encoding, width_chars=width_chars, **kw
        )
        return driver, None
    if isinstance(cfg, UsbPrinter):

        def make_usb() -> Any:
            from escpos.printer import Usb

            return Usb(cfg.vendor_id, cfg.product_id, timeout=5000)

        describe = f"usb {cfg.vendor_id:04x}:{cfg.product_id:04x}"
        return EscposReceiptPrinter(
            make_usb, describe=describe, encoding=cfg.encoding, width_chars=width_chars, **kw
        ), None
    if isinstance(cfg, NoDevice):
        raise ConfigError("devices.printer: driver 'none' has no printer to build")
    raise ConfigError(f"devices.printer: unsupported section {type(cfg).__name__}")
