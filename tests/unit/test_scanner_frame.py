"""The scanner's framing without a port: suffixes, pieces, noise, long codes, encodings."""

from __future__ import annotations

import pytest

from kiosk.errors import ProtocolError
from kiosk.hardware.scanner_frame import (
    CodeFramer,
    CodeIncompleteError,
    CodeNotTextError,
    CodeTooLongError,
    ScannedCode,
    decode,
)

TOKEN = "ESSC1.0123456789abcdef.9f8e7d6c"


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def framer(suffix: str = "CR", **kw):
    errors: list[ProtocolError] = []
    clock = Clock()
    return CodeFramer(suffix, on_error=errors.append, clock=clock, **kw), errors, clock


@pytest.mark.parametrize(("suffix", "end"), [("CR", b"\r"), ("CRLF", b"\r\n"), ("LF", b"\n")])
def test_each_suffix_ends_a_code(suffix, end):
    f, errors, _ = framer(suffix)
    codes = f.feed(TOKEN.encode() + end + b"134527980012345678" + end)
    assert [c.text for c in codes] == [TOKEN, "134527980012345678"]
    assert errors == [] and f.pending == 0


def test_a_code_in_pieces_is_one_code_once_its_suffix_comes():
    f, errors, clock = framer("CRLF")
    data = TOKEN.encode() + b"\r\n"
    out = []
    for i in range(0, len(data), 3):
        clock.t += 0.01
        out += f.feed(data[i : i + 3])
    assert [c.text for c in out] == [TOKEN] and errors == []


def test_only_the_configured_suffix_ends_a_code_so_a_multiline_code_stays_whole():
    f, _, _ = framer("CRLF")
    assert [c.text for c in f.feed(b"line one\rline two\nend\r\n")] == ["line one\rline two\nend"]


def test_a_scanner_set_to_crlf_read_as_cr_loses_nothing():
    f, errors, _ = framer("CR")
    codes = f.feed(b"AAA111\r\nBBB222\r\n")
    assert [c.text for c in codes] == ["AAA111", "BBB222"] and errors == []


def test_stray_bytes_at_power_up_are_dropped_and_not_glued_to_the_next_code():
    f, errors, clock = framer()
    assert f.feed(b"\x00\xff\xfeSC-2D V3.1\x00") == []
    clock.t += 1.0  # the gap: nothing followed, so it was not the start of a code
    codes = f.feed(TOKEN.encode() + b"\r")
    assert [c.text for c in codes] == [TOKEN]
    assert len(errors) == 1 and isinstance(errors[0], CodeIncompleteError)
    assert "V3.1" not in str(errors[0])  # what was dropped is never repeated


def test_pure_line_noise_is_dropped_silently():
    f, errors, clock = framer()
    f.feed(b"\x00\xff\x00")
    clock.t += 1.0
    assert f.expire() == 3 and errors == []
    assert f.feed(b"\x00\xff\r") == []  # noise that happens to end in the suffix: no code
    assert errors == []


def test_a_code_too_long_is_refused_whole_and_the_next_one_reads():
    f, errors, clock = framer(max_bytes=32)
    assert f.feed(b"X" * 30) == []
    assert f.feed(b"Y" * 30) == []  # over the limit: refused, kept out of memory
    assert f.pending <= 1
    # the rest of the long code up to its suffix is dropped; the code after it reads
    assert [c.text for c in f.feed(b"Z" * 10 + b"\rGOOD123\r")] == ["GOOD123"]
    codes = [c.text for c in f.feed(b"NEXT456\r")]
    assert codes == ["NEXT456"]
    assert [type(e) for e in errors] == [CodeTooLongError]


def test_a_too_long_code_never_becomes_two_codes():
    f, errors, _ = framer(max_bytes=16)
    codes = f.feed(b"A" * 40 + b"\r" + b"OK\r")
    assert [c.text for c in codes] == ["OK"]
    assert len(errors) == 1


def test_gb18030_text_is_read_when_it_is_not_utf8():
    text = "刘䶮 电子社保卡"
    f, errors, _ = framer()
    codes = f.feed(text.encode("gb18030") + b"\r")
    assert [(c.text, c.encoding) for c in codes] == [(text, "gb18030")] and errors == []
    codes = f.feed(text.encode("utf-8") + b"\r")
    assert [(c.text, c.encoding) for c in codes] == [(text, "utf-8")]


def test_bytes_that_are_no_text_are_refused_without_repeating_them():
    f, errors, _ = framer()
    assert f.feed(b"\x81\x20\x80\x80\xfe\r") == []
    assert len(errors) == 1 and isinstance(errors[0], CodeNotTextError)
    with pytest.raises(CodeNotTextError):
        decode(b"\x81\x20")


def test_a_scanned_code_never_shows_itself_in_full():
    code = ScannedCode("134527980012345678")
    assert "134527980012345678" not in repr(code) and "134527980012345678" not in str(code)
    assert code.masked == "13**…**78 (18)"
