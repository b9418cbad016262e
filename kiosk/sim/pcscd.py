"""A private pcscd with vsmartcard's virtual reader (vpcd): the PC/SC service the virtual
social-security card (``vpcd_card``) is read through, for tests and benchmarks.

Only one pcscd can run on a machine (its socket is ``/run/pcscd/pcscd.comm``), so this starts
one in the foreground with a reader configuration of its own (``pcscd -c DIR``, every file in
DIR is a reader config) and a vpcd port picked free, and stops it by its PID afterwards. A
pcscd that someone else started is never touched: the helper refuses to run instead. Files
left in ``/run/pcscd`` by a pcscd that is no longer alive (one this helper killed to simulate
a crash) are removed before a start, because pcscd refuses to start while they exist.

    with private_pcscd(tmp_path) as pcsc:      # pcsc.port, pcsc.reader_name
        slot = VpcdCardSlot(pcsc.port).start()
        ...
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

RUN_DIR = Path("/run/pcscd")
#: held while one of our pcscds runs: test runs and benchmarks in other checkouts (or other
#: pytest workers) wait for it instead of finding a foreign pcscd in the way
MACHINE_LOCK = Path("/tmp/kiosk-tests-pcscd.lock")
LOCK_WAIT_S = 1800.0
VPCD_DRIVER_PATHS = (
    Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so"),
    Path("/usr/lib/x86_64-linux-gnu/pcsc/drivers/serial/libifdvpcd.so"),
    Path("/usr/lib/aarch64-linux-gnu/pcsc/drivers/serial/libifdvpcd.so"),
)
FRIENDLY_NAME = "Kiosk Test VPCD"
SETUP_HINT = "run scripts/setup.sh (installs pcscd and vsmartcard-vpcd)"


class PcscdUnavailable(RuntimeError):
    """pcscd or vpcd cannot be used here (not installed, or a foreign pcscd is running)."""


def vpcd_driver() -> Path | None:
    return next((p for p in VPCD_DRIVER_PATHS if p.exists()), None)


def pcscd_binary() -> str | None:
    return shutil.which("pcscd") or next(
        (p for p in ("/usr/sbin/pcscd", "/sbin/pcscd") if os.path.exists(p)), None
    )


def running_pcscd_pids() -> list[int]:
    """PIDs of every live pcscd process on the machine (from /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            state = (entry / "stat").read_text().split(") ", 1)[1][:1]
        except OSError:
            continue
        if comm == "pcscd" and state != "Z":
            pids.append(int(entry.name))
    return pids


def clean_stale_run_files() -> None:
    """Remove pcscd's socket and PID file if no pcscd is alive (a crash or our own kill)."""
    if running_pcscd_pids():
        return
    for name in ("pcscd.comm", "pcscd.pid", "pcscd.pub"):
        with contextlib.suppress(FileNotFoundError):
            (RUN_DIR / name).unlink()


def free_port() -> int:
    """A free port P with P+1 free too: vpcd listens on one port per slot (two slots)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port >= 0xFFFE:
            continue
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("0.0.0.0", port))
                b.bind(("0.0.0.0", port + 1))
        except OSError:
            continue
        return port
    raise PcscdUnavailable("no pair of free TCP ports found for vpcd")


def write_reader_config(config_dir: Path, port: int, driver: Path) -> Path:
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / "vpcd"
    path.write_text(
        f'FRIENDLYNAME "{FRIENDLY_NAME}"\n'
        f"DEVICENAME   /dev/null:0x{port:04X}\n"
        f"LIBPATH      {driver}\n"
        f"CHANNELID    0x{port:04X}\n"
    )
    return path


def service_answers() -> bool:
    """True when a PC/SC context can be established (pcscd is up)."""
    from smartcard.scard import (
        SCARD_S_SUCCESS,
        SCARD_SCOPE_USER,
        SCardEstablishContext,
        SCardReleaseContext,
    )

    rv, ctx = SCardEstablishContext(SCARD_SCOPE_USER)
    if rv != SCARD_S_SUCCESS:
        return False
    SCardReleaseContext(ctx)
    return True


def list_readers() -> list[str]:
    """Reader names as pcscd reports them now; [] when there is none or no pcscd."""
    from smartcard.scard import (
        SCARD_S_SUCCESS,
        SCARD_SCOPE_USER,
        SCardEstablishContext,
        SCardListReaders,
        SCardReleaseContext,
    )

    rv, ctx = SCardEstablishContext(SCARD_SCOPE_USER)
    if rv != SCARD_S_SUCCESS:
        return []
    try:
        rv, readers = SCardListReaders(ctx, [])
        return list(readers) if rv == SCARD_S_SUCCESS else []
    finally:
        SCardReleaseContext(ctx)


@dataclass
class PrivatePcscd:
    """One pcscd we started; ``restart()`` keeps the same reader config and port."""

    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    log_path: Path = field(init=False)
    _lock: int | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.workdir = Path(self.workdir).resolve()  # pcscd changes to / before reading it
        self.config_dir = self.workdir / "reader.conf.d"
        self.log_path = self.workdir / "pcscd.log"  # never inside config_dir: pcscd reads it

    @property
    def reader_name(self) -> str:
        readers = [r for r in list_readers() if r.startswith(FRIENDLY_NAME)]
        return readers[0] if readers else ""

    def card_present(self) -> bool:
        """True when pcscd reports a card in the vpcd reader now (it polls the reader a few
        times a second, so this is what any PC/SC client would be told at this moment)."""
        from smartcard.scard import (
            SCARD_S_SUCCESS,
            SCARD_SCOPE_USER,
            SCARD_STATE_PRESENT,
            SCARD_STATE_UNAWARE,
            SCardEstablishContext,
            SCardGetStatusChange,
            SCardReleaseContext,
        )

        reader = self.reader_name
        if not reader:
            return False
        rv, ctx = SCardEstablishContext(SCARD_SCOPE_USER)
        if rv != SCARD_S_SUCCESS:
            return False
        try:
            rv, states = SCardGetStatusChange(ctx, 0, [(reader, SCARD_STATE_UNAWARE)])
            return rv == SCARD_S_SUCCESS and bool(states[0][1] & SCARD_STATE_PRESENT)
        finally:
            SCardReleaseContext(ctx)

    def start(self, timeout_s: float = 10.0, *, with_reader: bool = True) -> PrivatePcscd:
        """Start pcscd and wait until the vpcd reader is listed (or, ``with_reader=False``,
        start it with no reader configured at all: a terminal whose reader is unplugged)."""
        binary, driver = pcscd_binary(), vpcd_driver()
        if binary is None or driver is None:
            raise PcscdUnavailable(f"pcscd or the vpcd driver is not installed: {SETUP_HINT}")
        self._take_machine_lock()
        foreign = [p for p in running_pcscd_pids() if not self._is_ours(p)]
        if foreign:
            self._release_machine_lock()
            raise PcscdUnavailable(
                f"another pcscd (pid {', '.join(map(str, foreign))}) is already running and was "
                "not started by these tests; stop it (e.g. systemctl stop pcscd.socket "
                "pcscd.service) and run again"
            )
        clean_stale_run_files()
        if with_reader:
            write_reader_config(self.config_dir, self.port, driver)
        else:
            self.config_dir.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                (self.config_dir / "vpcd").unlink()
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [binary, "--foreground", "--config", str(self.config_dir)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._release_machine_lock()
                raise PcscdUnavailable(f"pcscd exited at start: {self.log_tail()}")
            if self.reader_name if with_reader else service_answers():
                return self
            time.sleep(0.05)
        self.stop()
        raise PcscdUnavailable(
            f"the vpcd reader did not appear in {timeout_s} s: {self.log_tail()}"
        )

    def kill(self) -> None:
        """SIGKILL, as a crash would; leaves /run/pcscd files behind like a real crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(5)

    def stop(self, *, keep_lock: bool = False) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        clean_stale_run_files()
        if not keep_lock:
            self._release_machine_lock()

    def restart(self, *, with_reader: bool = True) -> PrivatePcscd:
        self.stop(keep_lock=True)
        return self.start(with_reader=with_reader)

    def _take_machine_lock(self) -> None:
        """One pcscd per machine: wait until no other test run holds it."""
        if self._lock is not None:
            return
        import fcntl

        fd = os.open(MACHINE_LOCK, os.O_RDWR | os.O_CREAT, 0o666)
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise PcscdUnavailable(f"another test run held {MACHINE_LOCK} for {LOCK_WAIT_S:.0f} s") from None
                time.sleep(0.2)
        self._lock = fd

    def _release_machine_lock(self) -> None:
        if self._lock is not None:
            os.close(self._lock)  # closing the descriptor drops the flock
            self._lock = None

    def log_tail(self, n: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return "(no log)"

    def _is_ours(self, pid: int) -> bool:
        return self.process is not None and self.process.pid == pid and self.process.poll() is None


@contextlib.contextmanager
def private_pcscd(workdir: Path) -> Iterator[PrivatePcscd]:
    pcsc = PrivatePcscd(Path(workdir)).start()
    try:
        yield pcsc
    finally:
        pcsc.stop()
