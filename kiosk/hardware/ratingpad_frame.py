"""The evaluation pad's serial protocol: frames, messages and an incremental parser.

Pure logic, no port: the driver and the emulator both feed bytes in and take messages out, so
the same code is tested byte for byte without any device. The wire format is described in
``docs/ratingpad-protocol.md``::

    SOF 0xA5 | LEN (payload bytes, 0..32) | CMD | PAYLOAD | CRC-8 over LEN, CMD, PAYLOAD

Decoding wire bytes raises ``ProtocolError``; encoding a value that cannot be sent (a level of
7, a negative timeout) is a programming error and raises ``ValueError``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from kiosk.errors import ProtocolError

SOF = 0xA5
MAX_PAYLOAD = 32
PROTOCOL_VERSION = 1
#: SOF + LEN + CMD + CRC around the payload
OVERHEAD = 4


class Cmd(IntEnum):
    # host -> pad
    PING = 0x01
    GET_STATUS = 0x02
    GET_VERSION = 0x03
    PROMPT = 0x10
    CANCEL = 0x11
    # pad -> host: the high bit marks the direction, so a frame echoed back is never mistaken
    PONG = 0x81
    STATUS = 0x82
    VERSION = 0x83
    KEY = 0x90
    TIMEOUT = 0x91
    ERROR = 0x9F


KNOWN_COMMANDS = frozenset(int(c) for c in Cmd)


class ErrorCode(IntEnum):
    CHECKSUM = 0x01  # the pad received a frame with a bad CRC
    UNKNOWN_COMMAND = 0x02
    BAD_PAYLOAD = 0x03
    HARDWARE = 0x04  # stuck key, dead light: the pad needs a technician


#: STATUS flags
FAULT_KEY = 0x01
FAULT_LIGHT = 0x02


def crc8(data: bytes) -> int:
    """CRC-8/SMBUS (poly 0x07, init 0, no reflection); ``crc8(b"123456789") == 0xF4``."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


@dataclass(frozen=True)
class Frame:
    cmd: int
    payload: bytes = b""

    def encode(self) -> bytes:
        if not 0 <= self.cmd <= 0xFF:
            raise ValueError(f"command {self.cmd} does not fit in a byte")
        if len(self.payload) > MAX_PAYLOAD:
            raise ValueError(f"payload of {len(self.payload)} bytes exceeds {MAX_PAYLOAD}")
        body = bytes([len(self.payload), self.cmd]) + self.payload
        return bytes([SOF]) + body + bytes([crc8(body)])


def decode_frame(data: bytes) -> Frame:
    """Decode exactly one frame; anything else (short, long, bad CRC) is a ``ProtocolError``."""
    if len(data) < OVERHEAD or data[0] != SOF:
        raise ProtocolError(f"not a rating-pad frame: {data[:8].hex(' ')}")
    length = data[1]
    if length > MAX_PAYLOAD:
        raise ProtocolError(f"frame length {length} exceeds {MAX_PAYLOAD}")
    if len(data) != length + OVERHEAD:
        raise ProtocolError(f"frame is {len(data)} bytes, its length byte says {length + OVERHEAD}")
    body = data[1:-1]
    if crc8(body) != data[-1]:
        raise ProtocolError(f"bad checksum: got {data[-1]:02x}, computed {crc8(body):02x}")
    return Frame(data[2], bytes(data[3:-1]))


class FrameParser:
    """Incremental parser: feed it whatever the port returned, get whole frames back.

    It never raises and never holds more than one frame's worth of bytes. Bytes before a start
    byte are dropped; a frame with an impossible length or a bad CRC is reported to
    ``on_error`` and the parser resumes at the byte after that start byte, because a genuine
    frame may begin inside the bad one.
    """

    def __init__(self, on_error: Callable[[ProtocolError], None] | None = None) -> None:
        self._buf = bytearray()
        self._on_error = on_error
        self.bad_frames = 0
        self.dropped_bytes = 0

    def reset(self) -> None:
        self._buf.clear()

    def _error(self, err: ProtocolError) -> None:
        self.bad_frames += 1
        if self._on_error is not None:
            self._on_error(err)

    @property
    def pending(self) -> bool:
        """True while part of a frame is buffered."""
        return bool(self._buf)

    def expire(self) -> list[Frame]:
        """The line went quiet with part of a frame buffered: that frame will never complete.

        Without this, a stale start byte with a large length (the pad lost power mid-frame)
        would hold back the next real frames until enough bytes arrived to fill it. Called by
        the reader after an idle gap longer than a frame takes on the wire.
        """
        frames: list[Frame] = []
        while self._buf:
            self._error(ProtocolError(f"incomplete frame dropped: {bytes(self._buf[:8]).hex(' ')}"))
            self.dropped_bytes += 1
            del self._buf[:1]
            frames += self.feed(b"")
        return frames

    def feed(self, data: bytes) -> list[Frame]:
        self._buf += data
        frames: list[Frame] = []
        buf = self._buf
        while buf:
            if buf[0] != SOF:
                start = buf.find(SOF)
                skip = len(buf) if start < 0 else start
                self.dropped_bytes += skip
                del buf[:skip]
                continue
            if len(buf) < 2:
                break
            length = buf[1]
            if length > MAX_PAYLOAD:
                self._error(ProtocolError(f"frame length {length} exceeds {MAX_PAYLOAD}"))
                self.dropped_bytes += 1
                del buf[:1]
                continue
            end = length + OVERHEAD
            if len(buf) < end:
                break
            try:
                frames.append(decode_frame(bytes(buf[:end])))
            except ProtocolError as e:
                self._error(e)
                self.dropped_bytes += 1
                del buf[:1]
                continue
            del buf[:end]
        return frames


# --- messages: what a frame means ----------------------------------------------------------


@dataclass(frozen=True)
class Ping:
    nonce: int


@dataclass(frozen=True)
class Pong:
    nonce: int


@dataclass(frozen=True)
class GetStatus:
    pass


@dataclass(frozen=True)
class GetVersion:
    pass


@dataclass(frozen=True)
class Prompt:
    prompt_id: int  # 1..255; the pad quotes it in KEY / TIMEOUT
    timeout_ds: int  # tenths of a second, 0 = stay lit until CANCEL

    @classmethod
    def for_seconds(cls, prompt_id: int, timeout_s: float) -> Prompt:
        if timeout_s < 0:
            raise ValueError("a prompt timeout cannot be negative")
        return cls(prompt_id, min(0xFFFF, math.ceil(round(timeout_s * 10, 6))))


@dataclass(frozen=True)
class Cancel:
    prompt_id: int  # 0 = whatever is lit


@dataclass(frozen=True)
class Status:
    lit: bool
    prompt_id: int  # the prompt lit now, or the last one
    faults: int = 0  # FAULT_KEY | FAULT_LIGHT


@dataclass(frozen=True)
class Version:
    protocol: int
    firmware: str  # printable ASCII, at most 31 characters


@dataclass(frozen=True)
class Key:
    prompt_id: int  # the prompt that was lit, or the last one if the pad was dark
    level: int  # 5 非常满意 ... 1 非常不满意


@dataclass(frozen=True)
class Timeout:
    prompt_id: int


@dataclass(frozen=True)
class Error:
    code: int  # ErrorCode, or a vendor code
    cmd: int = 0  # the command that caused it, 0 if none


Message = (
    Ping
    | Pong
    | GetStatus
    | GetVersion
    | Prompt
    | Cancel
    | Status
    | Version
    | Key
    | Timeout
    | Error
)


def _byte(name: str, value: int, low: int = 0, high: int = 0xFF) -> int:
    if not low <= value <= high:
        raise ValueError(f"{name} {value} outside {low}..{high}")
    return value


def to_frame(msg: Message) -> Frame:
    match msg:
        case Ping(nonce) | Pong(nonce):
            cmd = Cmd.PING if isinstance(msg, Ping) else Cmd.PONG
            return Frame(cmd, bytes([_byte("nonce", nonce)]))
        case GetStatus():
            return Frame(Cmd.GET_STATUS)
        case GetVersion():
            return Frame(Cmd.GET_VERSION)
        case Prompt(prompt_id, timeout_ds):
            _byte("prompt id", prompt_id, 1)
            return Frame(
                Cmd.PROMPT,
                bytes([prompt_id]) + _byte("timeout", timeout_ds, 0, 0xFFFF).to_bytes(2, "big"),
            )
        case Cancel(prompt_id):
            return Frame(Cmd.CANCEL, bytes([_byte("prompt id", prompt_id)]))
        case Status(lit, prompt_id, faults):
            return Frame(
                Cmd.STATUS,
                bytes([int(lit), _byte("prompt id", prompt_id), _byte("faults", faults)]),
            )
        case Version(protocol, firmware):
            text = firmware.encode("ascii")
            if len(text) > MAX_PAYLOAD - 1:
                raise ValueError(f"firmware text longer than {MAX_PAYLOAD - 1} bytes")
            return Frame(Cmd.VERSION, bytes([_byte("protocol", protocol)]) + text)
        case Key(prompt_id, level):
            return Frame(
                Cmd.KEY, bytes([_byte("prompt id", prompt_id), _byte("level", level, 1, 5)])
            )
        case Timeout(prompt_id):
            return Frame(Cmd.TIMEOUT, bytes([_byte("prompt id", prompt_id, 1)]))
        case Error(code, cmd):
            return Frame(Cmd.ERROR, bytes([_byte("error code", code), _byte("command", cmd)]))
    raise TypeError(f"not a rating-pad message: {msg!r}")


def encode(msg: Message) -> bytes:
    """The bytes to write for one message."""
    return to_frame(msg).encode()


#: payload length each command must have (VERSION varies and is checked on its own)
_LENGTHS = {
    Cmd.PING: 1, Cmd.PONG: 1, Cmd.GET_STATUS: 0, Cmd.GET_VERSION: 0, Cmd.PROMPT: 3,
    Cmd.CANCEL: 1, Cmd.STATUS: 3, Cmd.KEY: 2, Cmd.TIMEOUT: 1, Cmd.ERROR: 2,
}  # fmt: skip


def parse_message(frame: Frame) -> Message:
    """What a well-framed frame means; ``ProtocolError`` for unknown commands or bad payloads."""
    try:
        cmd = Cmd(frame.cmd)
    except ValueError:
        raise ProtocolError(f"unknown command {frame.cmd:#04x}") from None
    p = frame.payload
    if cmd is Cmd.VERSION:
        if not 1 <= len(p) <= MAX_PAYLOAD or not all(0x20 <= b < 0x7F for b in p[1:]):
            raise ProtocolError(f"bad VERSION payload {p.hex(' ')}")
        return Version(p[0], p[1:].decode("ascii"))
    if len(p) != _LENGTHS[cmd]:
        raise ProtocolError(f"{cmd.name} wants {_LENGTHS[cmd]} payload bytes, got {len(p)}")
    match cmd:
        case Cmd.PING:
            return Ping(p[0])
        case Cmd.PONG:
            return Pong(p[0])
        case Cmd.GET_STATUS:
            return GetStatus()
        case Cmd.GET_VERSION:
            return GetVersion()
        case Cmd.PROMPT:
            if p[0] == 0:
                raise ProtocolError("PROMPT with prompt id 0")
            return Prompt(p[0], int.from_bytes(p[1:3], "big"))
        case Cmd.CANCEL:
            return Cancel(p[0])
        case Cmd.STATUS:
            if p[0] > 1:
                raise ProtocolError(f"STATUS with lit byte {p[0]:#04x}")
            return Status(bool(p[0]), p[1], p[2])
        case Cmd.KEY:
            if not 1 <= p[1] <= 5:
                raise ProtocolError(f"KEY with level {p[1]} outside 1..5")
            return Key(p[0], p[1])
        case Cmd.TIMEOUT:
            if p[0] == 0:
                raise ProtocolError("TIMEOUT with prompt id 0")
            return Timeout(p[0])
        case Cmd.ERROR:
            return Error(p[0], p[1])
    # unreachable while the match above covers every Cmd
    raise ProtocolError(f"unhandled command {cmd.name}")  # pragma: no cover
