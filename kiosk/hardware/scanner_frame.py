"""What a QR / barcode scanner in serial mode sends, turned into codes: pure logic, no port.

A scanner mounted under the screen (USB-COM or RS-232) sends each code it reads as the code's
bytes followed by a suffix (CR, CRLF or LF, set on the scanner; ``[devices.scanner] suffix``
says which). Nothing else frames a code, so this module is careful about everything a real
line does:

* bytes arrive in pieces: a code is only complete once its suffix has come;
* a QR code may itself hold CR or LF, so only the configured suffix ends a code (a bare CR
  inside a CRLF-terminated code stays in it); ASCII whitespace, NUL and ``FF`` around a code are
  dropped, which also takes care of a CR/LF left over from a scanner set to another suffix;
* stray bytes at power-up (line noise, half a banner) never end with a suffix: bytes that wait
  longer than ``gap_s`` for one are dropped by ``expire`` (a code arrives as one burst);
* a code longer than ``max_bytes`` is refused whole, up to its suffix, and never taken for
  two codes;
* the text is UTF-8 when it decodes as such, else GB18030 (what Chinese scanners send for
  Chinese text in their default mode), else refused.

Problems go to ``on_error`` as ``ProtocolError``s whose text says what happened without the
code's content: a scanned code is personal data (an identity token, a payment code).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from kiosk.errors import ProtocolError
from kiosk.identity import mask_code

#: ``[devices.scanner] suffix`` -> the bytes that end a code
SUFFIXES: dict[str, bytes] = {"CR": b"\r", "CRLF": b"\r\n", "LF": b"\n"}
#: a QR code holds at most 2,953 bytes; the codes the kiosk reads are far shorter
DEFAULT_MAX_BYTES = 1024
#: bytes without their suffix for this long are noise, not the start of a code
DEFAULT_GAP_S = 0.5
#: dropped around a code: ASCII whitespace and control bytes, DEL, and FF (never in UTF-8 or
#: GB18030 text, but what a line floating at power-up reads as)
_PADDING = bytes(range(0x21)) + b"\x7f\xff"


class CodeTooLongError(ProtocolError):
    """The scanner sent more than the configured maximum without a suffix."""


class CodeNotTextError(ProtocolError):
    """The code is neither UTF-8 nor GB18030 text."""


class CodeIncompleteError(ProtocolError):
    """Bytes that never got their suffix (noise at power-up, a cut cable)."""


@dataclass(frozen=True, repr=False)
class ScannedCode:
    """One code as the scanner read it. Personal data: its ``repr`` is masked."""

    text: str
    encoding: str = "utf-8"  # "utf-8" or "gb18030"
    at: float = field(default_factory=time.time)

    @property
    def masked(self) -> str:
        return mask_code(self.text)

    def __repr__(self) -> str:
        return f"ScannedCode({self.masked}, {self.encoding})"

    __str__ = __repr__


def decode(raw: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 first (a BOM dropped), then GB18030; ``CodeNotTextError`` else."""
    try:
        return raw.decode("utf-8").removeprefix("\ufeff"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        raise CodeNotTextError(f"a code of {len(raw)} bytes is neither UTF-8 nor GB18030 text") from None


class CodeFramer:
    """Bytes in (``feed``), codes out. Not thread-safe: one reader thread owns it."""

    def __init__(
        self,
        suffix: str = "CR",
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        gap_s: float = DEFAULT_GAP_S,
        on_error: Callable[[ProtocolError], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if suffix not in SUFFIXES:
            raise ValueError(f"suffix must be one of {', '.join(SUFFIXES)}, not {suffix!r}")
        if max_bytes < 1 or gap_s <= 0:
            raise ValueError("max_bytes must be >= 1 and gap_s > 0")
        self.suffix = SUFFIXES[suffix]
        self.max_bytes = max_bytes
        self.gap_s = gap_s
        self._on_error = on_error
        self._clock = clock
        self._buf = bytearray()
        self._skipping = False  # inside a code that was too long: drop up to its suffix
        self._last_byte_at = 0.0

    @property
    def pending(self) -> int:
        """Bytes waiting for their suffix."""
        return len(self._buf)

    def reset(self) -> None:
        self._buf.clear()
        self._skipping = False

    def feed(self, data: bytes) -> list[ScannedCode]:
        """The codes completed by ``data`` (bytes as they came off the line)."""
        now = self._clock()
        if self._buf and now - self._last_byte_at > self.gap_s:
            self.expire(now)  # what waited too long is not the start of this code
        if data:
            self._last_byte_at = now
        self._buf += data
        codes: list[ScannedCode] = []
        while True:
            end = self._buf.find(self.suffix)
            if end < 0:
                break
            raw = bytes(self._buf[:end])
            del self._buf[: end + len(self.suffix)]
            if self._skipping:
                self._skipping = False
                continue
            if len(raw) > self.max_bytes:  # came whole in one read, suffix and all
                self._error(CodeTooLongError(f"a code longer than {self.max_bytes} bytes was refused"))
                continue
            code = self._code(raw)
            if code is not None:
                codes.append(code)
        # keep a possible first half of the suffix; anything beyond the limit is refused
        if len(self._buf) > self.max_bytes + len(self.suffix) - 1:
            if not self._skipping:
                self._error(CodeTooLongError(f"a code longer than {self.max_bytes} bytes was refused"))
            self._skipping = True
            self._buf = self._buf[-(len(self.suffix) - 1) :] if len(self.suffix) > 1 else bytearray()
        return codes

    def expire(self, now: float | None = None) -> int:
        """Drop bytes that have waited ``gap_s`` for a suffix; returns how many were dropped."""
        now = self._clock() if now is None else now
        if not self._buf or now - self._last_byte_at <= self.gap_s:
            return 0
        dropped = len(self._buf)
        noise = not bytes(self._buf).strip(_PADDING)
        self._buf.clear()
        skipping, self._skipping = self._skipping, False
        if not noise and not skipping:
            self._error(CodeIncompleteError(f"{dropped} bytes without a suffix were dropped"))
        return dropped

    def _code(self, raw: bytes) -> ScannedCode | None:
        raw = raw.strip(_PADDING)
        if not raw:
            return None  # a bare suffix, or noise that happened to end in one
        try:
            text, encoding = decode(raw)
        except CodeNotTextError as e:
            self._error(e)
            return None
        return ScannedCode(text, encoding)

    def _error(self, err: ProtocolError) -> None:
        if self._on_error is not None:
            self._on_error(err)
