"""The printer emulator against hostile byte streams, over its real TCP socket: what it keeps
stays bounded, the work stays linear, lines wrap at the paper's edge as on a printer, and it
answers status queries throughout."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.hardware.printer import network_printer
from kiosk.hardware.receipt_escpos import display_width, qr_command
from kiosk.receipt import PrintJob, Receipt
from kiosk.sim.escpos import EscposParser, PrinterEmulator, PrinterState
from kiosk.sim.escpos import server as escpos_server
from kiosk.sim.escpos.page import MAX_DOCUMENT_BYTES, MAX_DOCUMENT_LINES, MAX_QR_BYTES
from kiosk.sim.escpos.server import MAX_DOCUMENTS_KEPT, MAX_RAW_KEPT
from kiosk.tours.soak import read_process

ROOT = Path(__file__).resolve().parents[2]
CUT = b"\x1dV\x00"
STATUS = b"\x10\x04\x01"  # DLE EOT 1: the printer's own status
ONLINE = b"\x12"
TABS = b"\t" * 20_000
FEEDS = b"\x1bd\xff" * 1_000  # ESC d 255: print and feed 255 lines
#: what the socket waits for an answer: far beyond a linear parse of these streams (well under
#: a second), far below the minutes a quadratic one took
ANSWER_TIMEOUT_S = 60

SMALL = Receipt(title="缴费凭证", transaction_no="T1", issued_at="2026-11-23 09:00:00",
                terminal_id="NY-370921-0001", lines=(("姓名", "刘*"),))


@pytest.fixture
def emulator():
    with PrinterEmulator() as emu:
        yield emu


def send(port: int, data: bytes) -> bytes:
    """Send a stream and a status query on a fresh connection; the answer (empty if none)."""
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWER_TIMEOUT_S) as conn:
        conn.sendall(data + STATUS)
        return conn.recv(1)


def parse(data: bytes, columns: int = 32) -> list:
    docs: list = []
    EscposParser(PrinterState(), docs.append, columns=columns).feed(data + CUT)
    return docs


def test_twenty_thousand_tabs_wrap_at_the_paper_edge_and_the_printer_still_answers(emulator):
    assert send(emulator.port, TABS + CUT) == ONLINE
    (doc,) = emulator.documents
    # four tab stops (8, 16, 24, 32) to a 32-column line: 5,000 lines, the first 1,000 kept
    assert doc.lines == [" " * 32] * MAX_DOCUMENT_LINES
    assert doc.lines_dropped == 20_000 // 4 - MAX_DOCUMENT_LINES


def test_a_thousand_feeds_of_255_lines_end_the_document_at_its_limit(emulator, caplog):
    caplog.set_level(logging.WARNING, logger="kiosk.sim.escpos")
    assert send(emulator.port, FEEDS + CUT) == ONLINE
    (doc,) = emulator.documents
    assert len(doc.items) == MAX_DOCUMENT_LINES and doc.text.strip() == ""
    assert doc.lines_dropped == 255 * 1_000 - MAX_DOCUMENT_LINES
    assert doc.memory() < 128 << 10
    assert [r.message for r in caplog.records if "reached" in r.message] == [
        "a document reached 1000 lines (3.75 m of paper); what follows up to the cut is dropped"
    ]
    # the next receipt prints whole, through the real driver
    driver = network_printer(emulator.url, status_timeout_s=1.0)
    try:
        driver.print_job(PrintJob(job_id="after", receipt=SMALL))
    finally:
        driver.stop()
    assert emulator.documents[-1].lines[0] == "缴费凭证" and emulator.documents[-1].lines_dropped == 0


def test_a_megabyte_line_is_cut_into_paper_wide_lines_and_its_bytes_kept_to_the_limit(emulator):
    assert send(emulator.port, b"A" * 1_000_000 + CUT) == ONLINE
    (doc,) = emulator.documents
    assert doc.lines == ["A" * 32] * MAX_DOCUMENT_LINES
    assert doc.lines_dropped == 1_000_000 // 32 - MAX_DOCUMENT_LINES
    assert len(doc.raw) == MAX_DOCUMENT_BYTES


def test_the_streams_leave_a_standalone_emulator_process_small():
    proc = subprocess.Popen([sys.executable, "-m", "kiosk.sim.escpos", "--port", "0"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = int(proc.stdout.readline().rsplit(":", 1)[-1])
        assert send(port, b"warm-up\n" + CUT) == ONLINE
        before = read_process(proc.pid)[0]
        # 20 x 255,000 blank lines: the emulator that kept them all grew by 500 MiB
        assert send(port, (FEEDS + CUT) * 20 + TABS + CUT + b"A" * 1_000_000 + CUT) == ONLINE
        grown_mib = (read_process(proc.pid)[0] - before) / 1024
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert grown_mib < 32, grown_mib
    assert "23 receipt(s) printed" in out


def test_the_emulator_keeps_the_newest_documents_and_counts_them_all(emulator):
    stream = b"".join(b"doc %d\n" % i + CUT for i in range(MAX_DOCUMENTS_KEPT + 50))
    assert send(emulator.port, stream) == ONLINE
    assert emulator.wait_for_documents(MAX_DOCUMENTS_KEPT + 50)
    kept = emulator.documents
    assert len(kept) == MAX_DOCUMENTS_KEPT
    assert (kept[0].text, kept[-1].text) == ("doc 50", f"doc {MAX_DOCUMENTS_KEPT + 49}")
    assert emulator.printed == MAX_DOCUMENTS_KEPT + 50
    assert emulator.clear() == MAX_DOCUMENTS_KEPT + 50 and emulator.printed == 0


def test_the_documents_kept_stay_within_their_byte_budget(emulator, monkeypatch):
    monkeypatch.setattr(escpos_server, "MAX_DOCUMENTS_BYTES", 1 << 20)
    page = (b"X" * 32 + b"\n") * MAX_DOCUMENT_LINES  # some 270 KiB as parsed lines
    assert send(emulator.port, b"".join(b"%d\n" % i + page + CUT for i in range(8))) == ONLINE
    kept = emulator.documents
    assert 1 < len(kept) < 8 and emulator.printed == 8
    assert sum(d.memory() for d in kept) <= 1 << 20
    assert kept[-1].lines[0] == "7"  # the newest are the ones kept


def test_raw_keeps_the_tail_of_the_stream(emulator):
    rows = 65_535  # GS v 0: a raster image of 48 x 65,535 bytes (3 MiB), counted off
    image = b"\x1dv0\x00\x30\x00" + rows.to_bytes(2, "little") + b"\xaa" * (48 * rows)
    last = b"the end\n" + CUT
    assert send(emulator.port, image + image + last) == ONLINE
    raw = emulator.raw
    assert len(raw) == MAX_RAW_KEPT and raw.endswith(last + STATUS)


def test_lines_wrap_and_tabs_stop_as_on_a_printer():
    (doc,) = parse(b"A" * 40 + b"\n" + b"B" * 32 + b"\n" + b"ab\tc\n" + b"\t" * 5 + b"x\n")
    assert doc.lines == ["A" * 32, "A" * 8, "B" * 32, "ab      c", " " * 32, " " * 8 + "x"]
    (doc,) = parse(b"\x1c&" + "刘䶮".encode("gb18030") * 10 + b"\n\x1d!\x10" + b"W" * 20 + b"\n")
    assert doc.lines == ["刘䶮" * 8, "刘䶮" * 2, "W" * 16, "W" * 4]
    assert [display_width(line) for line in doc.lines] == [32, 8, 16, 4]
    (wide,) = parse(b"A" * 60 + b"\n", columns=48)
    assert wide.lines == ["A" * 48, "A" * 12]


def test_a_line_of_combining_marks_is_cut_too():
    # a combining accent takes no column; a line still holds at most two characters a column
    (doc,) = parse(b"\x1c&" + "\u0301".encode("gb18030") * 1_000 + b"\n")
    assert [len(line) for line in doc.lines] == [64] * 15 + [40]


def test_a_qr_code_larger_than_any_qr_code_holds_is_not_printed(caplog):
    too_big = "9" * (MAX_QR_BYTES + 1)
    (doc,) = parse(qr_command(too_big) + qr_command("https://zwfw.example.gov.cn/v/1"))
    assert doc.qr_payloads == ["https://zwfw.example.gov.cn/v/1"]
    assert any("not printed" in r.message for r in caplog.records)
