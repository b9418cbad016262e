"""The SAM frame codec against the published frames, and under random and damaged input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.errors import KioskError, NoCardError, ProtocolError
from kiosk.hardware import idcard_frame as f

P = "AA AA AA 96 69 "

# every request frame docs/devices.md lists: (command, frame)
GOLDEN_REQUESTS = [
    (f.RESET_SAM, P + "00 03 10 FF EC"),
    (f.SAM_STATUS, P + "00 03 11 FF ED"),
    (f.SAM_ID, P + "00 03 12 FF EE"),
    (f.FIND_CARD, P + "00 03 20 01 22"),
    (f.SELECT_CARD, P + "00 03 20 02 21"),
    (f.READ_TEXT_PHOTO, P + "00 03 30 01 32"),
    (f.READ_TEXT_PHOTO_FINGERPRINT, P + "00 03 30 10 23"),
    (f.READ_NEW_ADDRESS, P + "00 03 30 03 30"),
]
# every reply frame docs/devices.md lists: (frame, sw3, data)
GOLDEN_REPLIES = [
    (P + "00 04 00 00 90 94", 0x90, b""),
    (P + "00 08 00 00 9F 00 00 00 00 97", 0x9F, bytes(4)),
    (P + "00 04 00 00 80 84", 0x80, b""),
    (P + "00 0C 00 00 90" + " 00" * 8 + " 9C", 0x90, bytes(8)),
    (P + "00 04 00 00 81 85", 0x81, b""),
    (P + "00 04 00 00 41 45", 0x41, b""),
]


@pytest.mark.parametrize(("command", "frame"), GOLDEN_REQUESTS)
def test_requests_encode_to_the_published_frames(command, frame):
    assert f.encode_request(*command) == bytes.fromhex(frame)
    assert f.decode_request(bytes.fromhex(frame)).command == command


@pytest.mark.parametrize(("frame", "sw3", "data"), GOLDEN_REPLIES)
def test_published_replies_decode_and_encode_back(frame, sw3, data):
    raw = bytes.fromhex(frame)
    reply = f.decode_response(raw)
    assert (reply.sw1, reply.sw2, reply.sw3, reply.data) == (0, 0, sw3, data)
    assert f.encode_response(sw3, data) == raw


def test_a_full_read_reply_has_the_published_header_and_size():
    data = f.join_read_data(bytes(range(256)), bytes(1024))
    frame = f.encode_response(0x90, data)
    assert len(frame) == 1295
    assert frame[:14] == bytes.fromhex("AA AA AA 96 69 05 08 00 00 90 01 00 04 00")
    assert frame[14:270] == bytes(range(256))  # text at byte 14, photo at byte 270
    text, photo = f.split_read_data(f.decode_response(frame).data)
    assert (text, photo) == (bytes(range(256)), bytes(1024))


def test_read_data_with_lengths_that_do_not_add_up_is_refused():
    with pytest.raises(f.FrameFormatError):
        f.split_read_data(b"\x01\x00\x04\x00" + bytes(100))


@pytest.mark.parametrize(
    ("sw3", "exc"),
    [
        (0x80, NoCardError),
        (0x81, f.CardSelectError),
        (0x41, f.CardReadError),
        (0x40, f.CardTypeError),
        (0x31, f.CardAuthError),
        (0x32, f.CardAuthError),
        (0x33, f.CardAuthError),
        (0x47, f.CardAuthError),
        (0x10, f.SamRejectedFrameError),
        (0x11, f.SamRejectedFrameError),
        (0x21, f.SamRejectedFrameError),
        (0x23, f.SamError),
        (0x24, f.SamError),
        (0x60, f.SamError),
        (0x66, f.SamError),
        (0x55, f.SamError),  # not in the table
    ],
)
def test_error_statuses_raise_what_they_stand_for(sw3, exc):
    reply = f.Response(0, 0, sw3)
    assert not reply.ok
    with pytest.raises(exc) as info:
        reply.raise_for_status("find card")
    assert f"{sw3:02X}" in str(info.value) and "find card" in str(info.value)
    assert info.value.code == f"SW3_{sw3:02X}"


@pytest.mark.parametrize("sw3", [0x90, 0x91, 0x9F])
def test_success_statuses_do_not_raise(sw3):
    reply = f.Response(0, 0, sw3)
    assert reply.ok and reply.raise_for_status() is reply


def test_every_status_in_the_table_has_a_meaning():
    for code in (0x90, 0x91, 0x9F, 0x10, 0x11, 0x21, 0x23, 0x24, 0x31, 0x32, 0x33, 0x40,
                 0x41, 0x47, 0x60, 0x66, 0x80, 0x81):
        assert code in f.SW3_TABLE and not f.status_meaning(code).startswith("unknown status")
    assert f.status_meaning(0x55) == "unknown status 55"


def test_decode_names_short_corrupt_and_oversize_frames():
    good = f.encode_response(0x90)
    with pytest.raises(f.FrameTooShortError):
        f.decode_response(good[:5])
    with pytest.raises(f.FrameTooShortError):
        f.decode_response(good[:-1])
    with pytest.raises(f.FrameChecksumError):
        f.decode_response(good[:-1] + bytes([good[-1] ^ 1]))
    with pytest.raises(f.FrameTooLongError):
        f.decode_response(f.PREAMBLE + b"\xff\xff" + bytes(10))
    with pytest.raises(f.FrameFormatError):
        f.decode_response(b"\x00" + good[1:])
    with pytest.raises(f.FrameTooLongError):
        f.encode_response(0x90, bytes(f.MAX_LEN))


def test_parser_skips_garbage_and_splits_back_to_back_frames():
    a, b = f.encode_response(0x9F, bytes(4)), f.encode_response(0x80)
    parser = f.FrameParser()
    assert parser.feed(b"\x00\xaa\x13\xaa\xaa" + a + b"junk" + b) == [
        f.Response(0, 0, 0x9F, bytes(4)),
        f.Response(0, 0, 0x80),
    ]
    assert parser.buffered == 0


def test_parser_assembles_a_frame_fed_byte_by_byte_and_says_how_much_it_needs():
    frame = f.encode_response(0x90, f.join_read_data(bytes(256), bytes(1024)))
    parser = f.FrameParser()
    assert parser.needed() == 7
    assert parser.feed(frame[:7]) == []
    assert parser.needed() == 1288  # read 7 bytes, then LEN more
    out = []
    for i in range(7, len(frame)):
        out += parser.feed(frame[i : i + 1])
    assert len(out) == 1 and len(out[0].data) == 1284


def test_parser_keeps_a_preamble_split_across_reads():
    frame = f.encode_response(0x90)
    parser = f.FrameParser()
    assert parser.feed(b"\x01\x02" + frame[:3]) == []
    assert parser.feed(frame[3:]) == [f.Response(0, 0, 0x90)]


def test_parser_raises_a_bad_checksum_once_and_then_carries_on():
    good = f.encode_response(0x80)
    bad = good[:-1] + bytes([good[-1] ^ 0xFF])
    parser = f.FrameParser()
    # a good frame before the damaged one is delivered first; the error comes on the next call
    assert parser.feed(good + bad + good) == [f.Response(0, 0, 0x80)]
    with pytest.raises(f.FrameChecksumError):
        parser.feed(b"")
    assert parser.feed(b"") == [f.Response(0, 0, 0x80)]


def test_parser_refuses_an_oversize_len_and_resynchronises():
    parser = f.FrameParser()
    with pytest.raises(f.FrameTooLongError):
        parser.feed(f.PREAMBLE + b"\x7f\xff" + b"\x00" * 3)
    assert parser.feed(f.encode_response(0x90)) == [f.Response(0, 0, 0x90)]


def test_incomplete_error_says_how_much_arrived():
    frame = f.encode_response(0x90, bytes(100))
    parser = f.FrameParser()
    parser.feed(frame[:50])
    err = parser.incomplete_error("read card")
    assert isinstance(err, f.FrameTooShortError)
    assert "read card" in str(err) and "43 of 104" in str(err)


def test_request_parser_reads_what_the_driver_sends():
    parser = f.RequestParser()
    stream = b"".join(f.encode_request(*c) for c, _ in GOLDEN_REQUESTS)
    assert [r.command for r in parser.feed(stream)] == [c for c, _ in GOLDEN_REQUESTS]


# --- properties -----------------------------------------------------------------------------


def _drain(parser: f._StreamParser, data: bytes) -> tuple[list, int]:
    """Feed ``data`` and keep feeding b"" after errors; bounded, so a hang is a failure."""
    out, errors = [], 0
    try:
        out += parser.feed(data)
    except ProtocolError:
        errors += 1
    for _ in range(len(data) + 2):
        try:
            more = parser.feed(b"")
        except ProtocolError:
            errors += 1
            continue
        out += more
        if not more:
            break
    return out, errors


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_random_bytes_never_crash_the_parser(data):
    out, _ = _drain(f.FrameParser(), data)
    assert all(isinstance(r, f.Response) for r in out)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 255), st.binary(max_size=300)), min_size=1, max_size=5),
    st.binary(max_size=20),
    st.lists(st.integers(1, 64), max_size=40),
)
def test_valid_frames_survive_any_chunking_and_leading_garbage(frames, garbage, cuts):
    stream = garbage.replace(b"\xaa", b"") + b"".join(f.encode_response(s, d) for s, d in frames)
    parser = f.FrameParser()
    out, pos = [], 0
    for n in cuts:
        out += parser.feed(stream[pos : pos + n])
        pos += n
    out += parser.feed(stream[pos:])
    assert [(r.sw3, r.data) for r in out] == frames


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=200), st.integers(0, 10_000), st.integers(0, 255))
def test_a_mutated_frame_is_either_decoded_or_refused_with_a_kiosk_error(data, where, value):
    frame = bytearray(f.encode_response(0x90, data))
    frame[where % len(frame)] = value
    try:
        reply = f.decode_response(bytes(frame))
    except KioskError as e:
        assert isinstance(e, ProtocolError)
    else:
        assert bytes(frame) == f.encode_response(reply.sw3, reply.data, reply.sw1, reply.sw2)
