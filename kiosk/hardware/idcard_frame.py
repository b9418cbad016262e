"""Frame codec for the 二代证 SAM module's serial protocol (GA 467): pure logic, no port.

Request   ``AA AA AA 96 69 | LEN1 LEN2 | CMD PARA | DATA | CHK``
Response  ``AA AA AA 96 69 | LEN1 LEN2 | SW1 SW2 SW3 | DATA | CHK``

LEN is big-endian and counts every byte after itself, CHK included; CHK is the XOR of every
byte from LEN1 to the last DATA byte. ``FrameParser`` turns a byte stream into responses
(``RequestParser`` into requests, for the emulator), skipping garbage before a preamble. The
SW3 table maps the module's status to its meaning and to the kiosk exception it stands for.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from typing import Generic, TypeVar

from kiosk.errors import CardError, DeviceError, NoCardError, ProtocolError

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
HEADER_LEN = len(PREAMBLE) + 2  # preamble + LEN: read this much, then LEN more
#: the largest LEN accepted: a text+photo+fingerprint reply is about 2.3 KB
MAX_LEN = 4096

# --- commands (CMD, PARA) -----------------------------------------------------------------
RESET_SAM = (0x10, 0xFF)
SAM_STATUS = (0x11, 0xFF)
SAM_ID = (0x12, 0xFF)
FIND_CARD = (0x20, 0x01)
SELECT_CARD = (0x20, 0x02)
READ_TEXT_PHOTO = (0x30, 0x01)
READ_TEXT_PHOTO_FINGERPRINT = (0x30, 0x10)
READ_NEW_ADDRESS = (0x30, 0x03)


# --- errors --------------------------------------------------------------------------------


class FrameError(ProtocolError):
    """A frame on the line does not follow the SAM protocol."""


class FrameTooShortError(FrameError):
    """The frame ended before LEN said it would (or is shorter than a header)."""


class FrameChecksumError(FrameError):
    """The XOR check byte does not match: the bytes were damaged on the line."""

    retryable = True


class FrameTooLongError(FrameError):
    """LEN is larger than any reply the module sends: not a frame, or a damaged header."""


class FrameFormatError(FrameError):
    """No preamble where one must be, or a LEN too small to hold the fixed fields."""


class SamRejectedFrameError(ProtocolError):
    """The module says the request it received was damaged or unknown (SW3 10, 11, 21)."""

    retryable = True


class SamError(DeviceError):
    """The SAM module itself failed or is not authorised (SW3 23, 24, 60, 66, unknown)."""

    message_zh = "身份证阅读器故障，请联系工作人员"
    message_en = "The ID-card reader has failed, please ask staff for help"


class CardSelectError(CardError):
    """A card was found but could not be selected (moved away, or two cards in the field)."""


class CardReadError(CardError):
    """The card was selected but its data could not be read."""


class CardAuthError(CardError):
    """The mutual authentication between SAM and card failed (not a genuine card, or moved)."""


class CardTypeError(CardError):
    """The module does not recognise the card type (SW3 40)."""

    message_zh = "无法识别该证件，请使用居民身份证"
    message_en = "This card is not recognised, please use a resident ID card"


#: SW3 -> (meaning, exception class or None for success)
SW3_TABLE: dict[int, tuple[str, type[Exception] | None]] = {
    0x90: ("ok", None),
    0x91: ("item not on the card", None),
    0x9F: ("card found", None),
    0x10: ("the module received a bad checksum", SamRejectedFrameError),
    0x11: ("the module received a bad length", SamRejectedFrameError),
    0x21: ("the module received an unknown command", SamRejectedFrameError),
    0x23: ("operation not authorised", SamError),
    0x24: ("unknown error in the module", SamError),
    0x31: ("card failed to authenticate the SAM", CardAuthError),
    0x32: ("SAM failed to authenticate the card", CardAuthError),
    0x33: ("information check failed", CardAuthError),
    0x40: ("card type not recognised", CardTypeError),
    0x41: ("card read failed", CardReadError),
    0x47: ("random number request failed", CardAuthError),
    0x60: ("SAM self-test failed", SamError),
    0x66: ("SAM not authorised", SamError),
    0x80: ("find card failed: no card", NoCardError),
    0x81: ("select card failed", CardSelectError),
}
OK_CODES = frozenset(code for code, (_, exc) in SW3_TABLE.items() if exc is None)


def xor(data: bytes) -> int:
    return reduce(lambda a, b: a ^ b, data, 0)


def _frame(body: bytes) -> bytes:
    """Preamble, LEN (body + CHK) and CHK around a body."""
    length = len(body) + 1
    if length > MAX_LEN:
        raise FrameTooLongError(f"a {length}-byte frame exceeds the {MAX_LEN}-byte limit")
    head = length.to_bytes(2, "big")
    return PREAMBLE + head + body + bytes([xor(head + body)])


@dataclass(frozen=True)
class Request:
    cmd: int
    para: int
    data: bytes = b""

    @property
    def command(self) -> tuple[int, int]:
        return (self.cmd, self.para)


@dataclass(frozen=True)
class Response:
    sw1: int
    sw2: int
    sw3: int
    data: bytes = b""

    @property
    def ok(self) -> bool:
        return self.sw1 == 0 and self.sw2 == 0 and self.sw3 in OK_CODES

    @property
    def meaning(self) -> str:
        return status_meaning(self.sw3)

    def raise_for_status(self, context: str = "") -> Response:
        """Return self if the status is a success, else raise what SW3 stands for."""
        if self.ok:
            return self
        where = f"{context}: " if context else ""
        if self.sw1 or self.sw2:
            raise SamError(
                f"{where}status {self.sw1:02X} {self.sw2:02X} {self.sw3:02X}", code="SW_UNKNOWN"
            )
        _, exc = SW3_TABLE.get(self.sw3, ("", SamError))
        assert exc is not None
        raise exc(f"{where}SW3 {self.sw3:02X} ({self.meaning})", code=f"SW3_{self.sw3:02X}")


def status_meaning(sw3: int) -> str:
    return SW3_TABLE.get(sw3, (f"unknown status {sw3:02X}", None))[0]


def encode_request(cmd: int, para: int, data: bytes = b"") -> bytes:
    return _frame(bytes([cmd & 0xFF, para & 0xFF]) + data)


def encode_response(sw3: int, data: bytes = b"", sw1: int = 0, sw2: int = 0) -> bytes:
    return _frame(bytes([sw1 & 0xFF, sw2 & 0xFF, sw3 & 0xFF]) + data)


def _check_frame(frame: bytes, min_len: int) -> bytes:
    """Validate one complete frame and return its body (between LEN and CHK)."""
    if len(frame) < HEADER_LEN:
        raise FrameTooShortError(f"{len(frame)} bytes is shorter than a frame header")
    if not frame.startswith(PREAMBLE):
        raise FrameFormatError("the frame does not start with AA AA AA 96 69")
    length = int.from_bytes(frame[5:7], "big")
    if length > MAX_LEN:
        raise FrameTooLongError(f"LEN {length} exceeds the {MAX_LEN}-byte limit")
    if length < min_len:
        raise FrameFormatError(f"LEN {length} is too small (at least {min_len})")
    if len(frame) < HEADER_LEN + length:
        raise FrameTooShortError(
            f"frame cut short: {len(frame) - HEADER_LEN} of {length} bytes after LEN"
        )
    if len(frame) > HEADER_LEN + length:
        raise FrameFormatError(f"{len(frame) - HEADER_LEN - length} bytes after the check byte")
    body = frame[HEADER_LEN:-1]
    expected = xor(frame[5:-1])
    if frame[-1] != expected:
        raise FrameChecksumError(f"check byte {frame[-1]:02X}, computed {expected:02X}")
    return body


def decode_response(frame: bytes) -> Response:
    """One complete response frame -> ``Response``; raises a ``FrameError`` if malformed."""
    body = _check_frame(frame, 4)
    return Response(body[0], body[1], body[2], bytes(body[3:]))


def decode_request(frame: bytes) -> Request:
    body = _check_frame(frame, 3)
    return Request(body[0], body[1], bytes(body[2:]))


T = TypeVar("T", Request, Response)


class _StreamParser(Generic[T]):
    """Incremental framing. Each ``feed`` returns the frames completed so far.

    A damaged frame (bad check byte, absurd LEN) is consumed and raised as a ``FrameError``;
    frames completed before it in the same call are returned first and the error is raised
    on the next call (``feed(b"")``), so nothing good is lost and nothing loops forever.
    """

    _min_len = 4

    def __init__(self) -> None:
        self._buf = bytearray()

    def _decode(self, frame: bytes) -> T:  # pragma: no cover - overridden
        raise NotImplementedError

    def reset(self) -> None:
        self._buf.clear()

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def needed(self) -> int:
        """How many more bytes complete the frame in progress (at least 1): read that many."""
        start = self._buf.find(PREAMBLE)
        if start < 0:
            return HEADER_LEN
        have = len(self._buf) - start
        if have < HEADER_LEN:
            return HEADER_LEN - have
        length = int.from_bytes(self._buf[start + 5 : start + 7], "big")
        if length > MAX_LEN or length < self._min_len:
            return 1  # the next feed raises and resynchronises
        return max(1, HEADER_LEN + length - have)

    def _resync(self) -> None:
        """Drop bytes before the next preamble; keep a tail that may start one."""
        start = self._buf.find(PREAMBLE)
        if start > 0:
            del self._buf[:start]
        elif start < 0:
            keep = 0
            for n in range(len(PREAMBLE) - 1, 0, -1):
                if self._buf.endswith(PREAMBLE[:n]):
                    keep = n
                    break
            del self._buf[: len(self._buf) - keep]

    def feed(self, data: bytes) -> list[T]:
        self._buf += data
        out: list[T] = []
        while True:
            self._resync()
            if len(self._buf) < HEADER_LEN or not self._buf.startswith(PREAMBLE):
                return out
            length = int.from_bytes(self._buf[5:7], "big")
            if length > MAX_LEN or length < self._min_len:
                if out:
                    return out
                del self._buf[:1]  # a false preamble: look for the next one
                if length > MAX_LEN:
                    raise FrameTooLongError(f"LEN {length} exceeds the {MAX_LEN}-byte limit")
                raise FrameFormatError(f"LEN {length} is too small (at least {self._min_len})")
            end = HEADER_LEN + length
            if len(self._buf) < end:
                return out
            frame = bytes(self._buf[:end])
            try:
                decoded = self._decode(frame)
            except FrameChecksumError:
                if out:
                    return out
                del self._buf[:end]
                raise
            del self._buf[:end]
            out.append(decoded)

    def incomplete_error(self, context: str = "") -> FrameTooShortError:
        """The error for a read that timed out with part of a frame buffered."""
        where = f"{context}: " if context else ""
        start = self._buf.find(PREAMBLE)
        if start < 0 or len(self._buf) - start < HEADER_LEN:
            return FrameTooShortError(f"{where}reply cut short after {len(self._buf)} bytes")
        length = int.from_bytes(self._buf[start + 5 : start + 7], "big")
        got = len(self._buf) - start - HEADER_LEN
        return FrameTooShortError(f"{where}reply cut short: {got} of {length} bytes after LEN")


class FrameParser(_StreamParser[Response]):
    """Responses from the module (the driver's side)."""

    _min_len = 4

    def _decode(self, frame: bytes) -> Response:
        return decode_response(frame)


class RequestParser(_StreamParser[Request]):
    """Requests to the module (the emulator's side)."""

    _min_len = 3

    def _decode(self, frame: bytes) -> Request:
        return decode_request(frame)


# --- the read reply ------------------------------------------------------------------------

TEXT_LEN = 256
PHOTO_LEN = 1024


def split_read_data(data: bytes) -> tuple[bytes, bytes]:
    """The DATA of a ``30 01`` reply -> (text block, WLT photo), checking the length fields."""
    if len(data) < 4:
        raise FrameFormatError(f"read reply holds {len(data)} bytes, no length fields")
    text_len = int.from_bytes(data[0:2], "big")
    photo_len = int.from_bytes(data[2:4], "big")
    if 4 + text_len + photo_len != len(data):
        raise FrameFormatError(
            f"read reply says text {text_len} + photo {photo_len} bytes but holds {len(data) - 4}"
        )
    return bytes(data[4 : 4 + text_len]), bytes(data[4 + text_len :])


def join_read_data(text: bytes, photo: bytes) -> bytes:
    return len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big") + text + photo
