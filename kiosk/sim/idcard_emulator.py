"""An emulated 二代证 SAM module on the master side of a pty: the real driver runs against it.

The emulator answers find / select / read like a SAM module, with the demo residents' cards
and a few special ones (HK/Macao/Taiwan permit, both foreigner cards, an expired card). It
publishes a stable port path, a symlink to the current ``/dev/pts/N``, so a test can unplug
the "device" (pty closed, link removed) and plug it back (new pty, new link) and watch the
driver reconnect. Faults (no card found, bad checksums, cut-off replies, silence) and pacing
at a real baud rate make the unhappy paths and the timings real.
"""

from __future__ import annotations

import datetime as dt
import os
import select
import tempfile
import threading
import time
import tty
from collections import deque
from pathlib import Path

from kiosk.hardware import idcard_frame as f
from kiosk.hardware.idcard_text import encode_text_block
from kiosk.identity import CardType, Identity, Sex, id_check_digit
from kiosk.sim.demo_data import RESIDENTS, DemoResident

FAULTS = ("no_card", "bad_checksum", "partial", "silence")
#: demo validity: the over-60s (on this date) hold 长期 cards, everyone else 20 years
_REFERENCE_DAY = dt.date(2026, 1, 1)
_AUTHORITIES = {
    "370921": "宁阳县公安局",
    "370902": "泰安市公安局泰山分局",
    "370911": "泰安市公安局岱岳分局",
}


def _id18(body17: str) -> str:
    return body17 + id_check_digit(body17)


def _resident_identity(r: DemoResident) -> Identity:
    age = _REFERENCE_DAY.year - r.birth_date.year
    long_term = age >= 60
    issued = dt.date(2016 + (r.seq % 7), 1 + (r.seq % 12), 1 + (r.seq % 28))
    return Identity(
        card_type=CardType.RESIDENT,
        name=r.name,
        id_number=r.id_number,
        sex=Sex(r.sex),
        birth_date=r.birth_date,
        nation=r.nation,
        address=r.address,
        authority=_AUTHORITIES.get(r.area, "宁阳县公安局"),
        valid_from=issued,
        valid_to=None if long_term else issued.replace(year=issued.year + 20),
        long_term=long_term,
    )


def demo_cards() -> dict[str, Identity]:
    """Every demo resident's ID card plus the special cards, by key."""
    cards = {r.key: _resident_identity(r) for r in RESIDENTS}
    cards["hmt_permit"] = Identity(
        card_type=CardType.HMT_PERMIT,
        name="陈家豪",
        id_number=_id18("81000019900101003"),
        sex=Sex.MALE,
        birth_date=dt.date(1990, 1, 1),
        address="山东省泰安市宁阳县宁阳镇文化路66号",
        authority="宁阳县公安局",
        valid_from=dt.date(2022, 6, 1),
        valid_to=dt.date(2027, 6, 1),
        extra={"permit_number": "H12345678", "issue_count": "01"},
    )
    cards["foreigner_2017"] = Identity(
        card_type=CardType.FOREIGN_PERMANENT,
        name="约翰·史密斯",
        id_number="USA370800101001",
        sex=Sex.MALE,
        birth_date=dt.date(1980, 1, 1),
        authority="1500",
        valid_from=dt.date(2018, 5, 20),
        valid_to=dt.date(2028, 5, 20),
        english_name="SMITH, JOHN",
        nationality="USA",
        extra={"card_version": "11"},
    )
    cards["foreigner_2023"] = Identity(
        card_type=CardType.FOREIGN_PERMANENT_2023,
        name="玛丽·约翰逊",
        id_number=_id18("93784019850615002"),
        sex=Sex.FEMALE,
        birth_date=dt.date(1985, 6, 15),
        valid_from=dt.date(2024, 3, 1),
        valid_to=dt.date(2034, 3, 1),
        english_name="JOHNSON, MARY ELIZABETH ANNE-MARIE CATHERINE",
        nationality="USA",
        extra={"renewal_count": "00"},
    )
    cards["expired"] = Identity(
        card_type=CardType.RESIDENT,
        name="钱进",
        id_number=_id18("37092119700322051"),
        sex=Sex.MALE,
        birth_date=dt.date(1970, 3, 22),
        nation="01",
        address="山东省泰安市宁阳县宁阳镇七贤路2号",
        authority="宁阳县公安局",
        valid_from=dt.date(2005, 4, 1),
        valid_to=dt.date(2025, 4, 1),
    )
    return cards


def _fake_wlt(identity: Identity) -> bytes:
    # real WLT data is vendor-encrypted; any deterministic 1,024 bytes exercise the path
    seed = identity.id_number.encode()
    return bytes((seed[i % len(seed)] * 31 + i) & 0xFF for i in range(f.PHOTO_LEN))


class IdCardEmulator:
    """A SAM module behind a pty. Thread-safe controls; all fd work happens in its thread."""

    def __init__(
        self,
        link_dir: str | os.PathLike[str] | None = None,
        *,
        pace_baud: int | None = None,
        link_name: str = "idcard",
        cards: dict[str, Identity] | None = None,
    ) -> None:
        self._own_dir = link_dir is None
        self._dir = Path(link_dir) if link_dir is not None else None
        self._link_name = link_name
        self.pace_baud = pace_baud
        self._cards = dict(cards) if cards is not None else demo_cards()
        self._lock = threading.RLock()  # held by the thread while it touches the fds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._master: int | None = None
        self._generation = 0  # bumped on every plug, so a stale fd number is never served
        self._slave: int | None = None
        self._placed: str | None = None
        self._selected = False
        self._fault: str | None = None
        self._fault_left: int | None = None
        self._parser = f.RequestParser()
        #: the latest requests received, as (cmd, para); tests read it to see retries
        self.requests: deque[tuple[int, int]] = deque(maxlen=1000)

    # --- life cycle ------------------------------------------------------------------------

    @property
    def port(self) -> str:
        """The stable port path (a symlink to the current pty); exists only while plugged."""
        if self._dir is None:
            raise RuntimeError("the emulator is not started")
        return str(self._dir / self._link_name)

    @property
    def plugged(self) -> bool:
        return self._master is not None

    def start(self) -> IdCardEmulator:
        if self._thread is not None:
            return self
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="idcard-"))
        self._dir.mkdir(parents=True, exist_ok=True)
        self._stop.clear()
        self._plug()
        self._thread = threading.Thread(target=self._run, name="idcard-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        with self._lock:
            self._unplug()
        if self._own_dir and self._dir is not None:
            try:
                self._dir.rmdir()
            except OSError:
                pass

    def __enter__(self) -> IdCardEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def unplug(self) -> None:
        """Pull the cable: the pty closes (the driver's port fails) and the link goes."""
        with self._lock:
            self._unplug()

    def replug(self) -> None:
        """Plug it back: a new pty behind the same link path."""
        with self._lock:
            if self._master is None:
                self._plug()

    def _plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)  # the driver sets raw mode too; this covers the gap before it opens
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self._generation += 1
        self._parser.reset()
        link = Path(self.port)
        tmp = link.with_name(link.name + ".new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.ttyname(slave))
        tmp.replace(link)  # atomic: the driver never sees a half-made link

    def _unplug(self) -> None:
        if self._dir is not None:
            Path(self.port).unlink(missing_ok=True)
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None
        self._selected = False

    # --- the card field and the faults -----------------------------------------------------

    def cards(self) -> list[tuple[str, str]]:
        """(key, masked label) for every card the emulator can place."""
        return [(k, f"{c.masked_name} {c.masked_id}") for k, c in self._cards.items()]

    def identity(self, key: str) -> Identity:
        return self._cards[key]

    def place(self, key: str) -> None:
        if key not in self._cards:
            raise KeyError(f"no demo card {key!r}")
        with self._lock:
            self._placed = key
            self._selected = False

    def remove(self) -> None:
        with self._lock:
            self._placed = None
            self._selected = False

    @property
    def placed(self) -> str | None:
        return self._placed

    def fault(self, mode: str | None, count: int | None = None) -> None:
        """Misbehave until cleared (``None``), or for the next ``count`` replies only."""
        if mode is not None and mode not in FAULTS:
            raise ValueError(f"unknown fault {mode!r}; one of {', '.join(FAULTS)}")
        with self._lock:
            self._fault = mode
            self._fault_left = count

    # --- the module ------------------------------------------------------------------------

    def answer(self, req: f.Request) -> bytes:
        """The reply frame a SAM module sends to one request (fault ``no_card`` included)."""
        card = self._cards.get(self._placed) if self._placed else None
        if self._fault == "no_card":
            card = None
        cmd = req.command
        if cmd in (f.RESET_SAM, f.SAM_STATUS):
            return f.encode_response(0x90)
        if cmd == f.SAM_ID:
            return f.encode_response(0x90, bytes.fromhex("0501000000000000202600000000c0de"))
        if cmd == f.FIND_CARD:
            return f.encode_response(0x9F, bytes(4)) if card else f.encode_response(0x80)
        if cmd == f.SELECT_CARD:
            self._selected = card is not None
            return f.encode_response(0x90, bytes(8)) if card else f.encode_response(0x81)
        if cmd in (f.READ_TEXT_PHOTO, f.READ_TEXT_PHOTO_FINGERPRINT):
            if card is None or not self._selected:
                return f.encode_response(0x41)
            data = f.join_read_data(encode_text_block(card), _fake_wlt(card))
            if cmd == f.READ_TEXT_PHOTO_FINGERPRINT:  # no fingerprint stored: length 0
                data = data[:4] + b"\x00\x00" + data[4:]
            return f.encode_response(0x90, data)
        if cmd == f.READ_NEW_ADDRESS:
            return f.encode_response(0x91 if card else 0x41)
        return f.encode_response(0x21)

    def _reply(self, req: f.Request) -> bytes | None:
        with self._lock:
            frame = self.answer(req)
            mode = self._fault
            if mode is not None and self._fault_left is not None:
                self._fault_left -= 1
                if self._fault_left <= 0:
                    self._fault, self._fault_left = None, None
        if mode == "silence":
            return None
        if mode == "bad_checksum":
            return frame[:-1] + bytes([frame[-1] ^ 0x5A])
        if mode == "partial":
            return frame[: len(frame) // 2]
        return frame

    def _run(self) -> None:
        while not self._stop.is_set():
            master, generation = self._master, self._generation
            if master is None:
                self._stop.wait(0.02)
                continue
            # select without the lock so that controls never wait behind an idle line
            try:
                readable, _, _ = select.select([master], [], [], 0.02)
            except (OSError, ValueError):
                readable = []
            if not readable:
                continue
            with self._lock:
                if self._generation == generation and self._master is not None:
                    self._serve(master)

    def _serve(self, master: int) -> None:
        try:
            chunk = os.read(master, 4096)
        except BlockingIOError:
            return
        except OSError:
            # EIO: nobody has the port open right now. Anything else: keep serving; a dead
            # emulator thread would look like a hardware fault the driver does not have.
            time.sleep(0.02)
            return
        try:
            requests = self._parser.feed(chunk)
        except f.FrameChecksumError:
            self._write(master, f.encode_response(0x10))
            return
        except f.FrameError:
            self._write(master, f.encode_response(0x11))
            return
        for req in requests:
            self.requests.append(req.command)
            frame = self._reply(req)
            if frame is not None:
                self._write(master, frame)

    def _write(self, master: int, data: bytes) -> None:
        """Write, paced at ``pace_baud`` (10 bits a byte) if set; drop after 1 s unread."""
        start = time.monotonic()
        wire_s = len(data) * 10 / self.pace_baud if self.pace_baud else 0.0
        give_up = start + wire_s + 1.0
        sent = 0
        # paced: write in 5 ms slices so the bytes trickle in as they would on a cable
        step = max(1, self.pace_baud // 10 // 200) if self.pace_baud else len(data)
        while sent < len(data):
            if self._stop.is_set() or time.monotonic() > give_up:
                return
            if self.pace_baud:
                due = start + sent * 10 / self.pace_baud
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            try:
                sent += os.write(master, data[sent : sent + step])
            except BlockingIOError:
                select.select([], [master], [], 0.01)
            except OSError:
                return
        delay = start + wire_s - time.monotonic()  # the last slice also takes its time
        if delay > 0:
            time.sleep(delay)
