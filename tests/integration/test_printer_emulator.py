"""The real receipt printer driver against the ESC/POS emulator over loopback TCP."""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import qrcode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops

from kiosk.config import NoDevice, SerialPrinter, SimulatedDevice
from kiosk.errors import ConfigError, PaperOutError, PrinterError
from kiosk.hardware.base import DeviceStatus, EventKind, PaperStatus
from kiosk.hardware.printer import build, network_printer
from kiosk.hardware.receipt_escpos import render_receipt
from kiosk.receipt import PrintJob, Receipt
from kiosk.sim import devices as simulated
from kiosk.sim.escpos import EscposParser, PrinterEmulator, PrinterState
from tests.support import Events, wait_for

ROOT = Path(__file__).resolve().parents[2]

CERTIFICATE = Receipt(
    title="个人参保缴费证明",
    transaction_no="T20261123000123",
    issued_at="2026-11-23 17:45:02",
    terminal_id="NY-370921-0001",
    lines=(("姓名", "刘䶮"), ("证件号码", "370***********123X"), ("参保状态", "正常参保")),
    table_header=("年月", "险种", "金额"),
    table_rows=(("2026-01", "城乡居民养老", "200.00"), ("2026-02", "城乡居民养老", "200.00")),
    amount_fen=40000,
    qr_payload="https://zwfw.example.gov.cn/v/T20261123000123",
    footer=("请妥善保管本凭证",),
)


@pytest.fixture
def emulator():
    with PrinterEmulator() as emu:
        yield emu


@pytest.fixture
def printer(emulator):
    driver = network_printer(
        emulator.url, status_timeout_s=0.3, drain_timeout_s=2.0, poll_interval_s=0.1
    )
    yield driver
    driver.stop()


def job(job_id: str = "J1", receipt: Receipt = CERTIFICATE) -> PrintJob:
    return PrintJob(job_id=job_id, receipt=receipt)


def test_printed_receipt_is_parsed_and_rendered(emulator, printer, tmp_path):
    j = job()
    printer.print_job(j)
    assert j.printed and j.last_error == ""
    (doc,) = emulator.documents
    assert doc.lines[0] == "个人参保缴费证明"
    assert any(line.startswith("姓名：") and line.endswith("刘䶮") for line in doc.lines)
    assert any(line.startswith("合计金额：") and line.endswith("￥400.00") for line in doc.lines)
    assert doc.qr_payloads == ["https://zwfw.example.gov.cn/v/T20261123000123"]
    assert doc.raw == render_receipt(CERTIFICATE)
    png = emulator.render_png(tmp_path / "receipt.png")
    image = Image.open(png).convert("L")
    assert image.width == 384 + 32 and image.height > 600
    dark = sum(image.histogram()[:128]) / (image.width * image.height)
    assert 0.02 < dark < 0.5  # text and a QR code, not a blank or black page


def test_png_holds_the_qr_code_of_the_decoded_payload(emulator, printer, tmp_path):
    printer.print_job(job())
    page = Image.open(emulator.render_png(tmp_path / "r.png")).convert("L")
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=6, border=1)
    code.add_data(CERTIFICATE.qr_payload)
    code.make(fit=True)
    expected = code.make_image().get_image().convert("L")
    x = 16 + (384 - expected.width) // 2  # centred between the paper margins
    found = [
        y
        for y in range(page.height - expected.height)
        if ImageChops.difference(
            page.crop((x, y, x + expected.width, y + expected.height)), expected
        ).getbbox()
        is None
    ]
    assert len(found) == 1


def test_paper_out_before_a_job_sends_nothing(emulator, printer):
    emulator.set_paper(PaperStatus.OUT)
    j = job()
    with pytest.raises(PaperOutError):
        printer.print_job(j)
    assert not j.printed and "out of paper" in j.last_error
    assert emulator.documents == []
    assert b"\x1b@" not in emulator.raw  # only status queries went out
    assert printer.paper() is PaperStatus.OUT


def test_paper_running_out_mid_job_leaves_it_unprinted_then_prints_it_once(emulator, printer):
    emulator.run_out_after(200)
    j = job()
    with pytest.raises(PaperOutError, match="during the job"):
        printer.print_job(j)
    assert not j.printed
    assert emulator.documents == []
    emulator.set_paper(PaperStatus.FULL)  # a technician loads a new roll
    printer.print_job(j)
    assert j.printed and j.last_error == ""
    assert len(emulator.documents) == 1
    assert emulator.documents[0].lines[0] == "个人参保缴费证明"
    sent = len(emulator.raw)
    printer.print_job(j)  # a retry of a completed job
    printer.print_job(job())  # the same job id in a fresh object, e.g. after a screen reload
    assert len(emulator.documents) == 1
    assert len(emulator.raw) == sent


def test_silent_printer_is_unknown_and_refuses_the_job(emulator, printer):
    emulator.set_silent(True)
    started = time.monotonic()
    assert printer.refresh_status() == (DeviceStatus.OFFLINE, PaperStatus.UNKNOWN)
    assert time.monotonic() - started < 2
    assert "no answer" in printer.last_error()
    j = job()
    with pytest.raises(PrinterError) as info:
        printer.print_job(j)
    assert not isinstance(info.value, PaperOutError)
    assert "not ready" in str(info.value) and not j.printed
    assert emulator.documents == []


def only_status_queries(data: bytes) -> bool:
    """Every byte is part of a DLE EOT n real-time status query (what a refused job sends)."""
    return len(data) % 3 == 0 and all(data[i:i + 2] == b"\x10\x04" for i in range(0, len(data), 3))


@pytest.mark.parametrize(
    ("trouble", "error", "says"),
    [
        (lambda emu: emu.set_paper(PaperStatus.OUT), PaperOutError, "out of paper"),
        (lambda emu: emu.set_offline(True), PrinterError, "cover open"),
        (lambda emu: emu.set_silent(True), PrinterError, "no answer"),
    ],
    ids=["paper_out", "offline", "silent"],
)
def test_the_status_is_asked_right_before_every_job_not_taken_from_the_last_poll(emulator, trouble, error, says):
    # no status poll runs: all the driver knows is that the last job printed well
    driver = network_printer(emulator.url, status_timeout_s=0.3, drain_timeout_s=2.0, poll_interval_s=3600)
    try:
        driver.print_job(job("J1"))
        assert (driver.status(), driver.paper()) == (DeviceStatus.ONLINE, PaperStatus.FULL)
        trouble(emulator)  # ...and then the printer goes bad
        sent = len(emulator.raw)
        refused = job("J2")
        with pytest.raises(error) as info:
            driver.print_job(refused)
        assert says in str(info.value) and not refused.printed
        assert only_status_queries(emulator.raw[sent:])  # nothing of the job went out
        assert len(emulator.documents) == 1
        emulator.set_paper(PaperStatus.FULL)
        emulator.set_offline(False)
        emulator.set_silent(False)
        sent = len(emulator.raw)
        driver.print_job(refused)  # the same job, once the printer is fit again
        new = emulator.raw[sent:]
        start = new.index(b"\x1b@")  # the job itself begins with ESC @
        assert start > 0 and only_status_queries(new[:start])  # asked first, then printed
        assert emulator.wait_for_documents(2) and len(emulator.documents) == 2
    finally:
        driver.stop()


def test_cover_open_is_a_user_error(emulator, printer):
    emulator.set_offline(True)
    assert printer.refresh_status() == (DeviceStatus.USER_ERROR, PaperStatus.FULL)
    assert "cover open" in printer.last_error()
    with pytest.raises(PrinterError):
        printer.print_job(job())


def test_unreachable_printer_is_no_device():
    with socket.socket() as s:  # a port that nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    driver = network_printer(f"tcp://127.0.0.1:{port}", timeout_s=1.0, status_timeout_s=0.3)
    assert driver.refresh_status() == (DeviceStatus.NO_DEVICE, PaperStatus.UNKNOWN)
    assert "cannot open" in driver.last_error()
    with pytest.raises(PrinterError):
        driver.print_job(job())


def test_driver_reconnects_after_the_printer_restarts(emulator, printer):
    printer.print_job(job("before"))
    port = emulator.port
    emulator.stop()  # power cycle: the connection the driver holds is gone
    assert printer.refresh_status()[0] is DeviceStatus.NO_DEVICE
    with PrinterEmulator(port=port) as again:
        assert printer.refresh_status() == (DeviceStatus.ONLINE, PaperStatus.FULL)
        printer.print_job(job("after"))
        assert len(again.documents) == 1


def test_status_poll_emits_paper_and_status_events(emulator, printer):
    events = Events()
    printer.start(events)
    events.wait(EventKind.STATUS, DeviceStatus.ONLINE)
    emulator.set_paper(PaperStatus.LOW)
    events.wait(EventKind.PAPER, PaperStatus.LOW)
    emulator.set_paper(PaperStatus.OUT)
    events.wait(EventKind.PAPER, PaperStatus.OUT)
    assert DeviceStatus.OFFLINE in events.payloads(EventKind.STATUS)  # paper end takes the printer offline
    assert all(e.device == "printer" for e in events.all)


def test_low_paper_still_prints(emulator, printer):
    emulator.set_paper(PaperStatus.LOW)
    printer.print_job(job())
    assert len(emulator.documents) == 1 and printer.paper() is PaperStatus.LOW


def test_roll_counter_counts_printed_receipts_only(emulator, printer):
    printer.print_job(job("A"))
    one = printer.paper_used_mm()
    assert 60 < one < 300
    emulator.set_paper(PaperStatus.OUT)
    with pytest.raises(PaperOutError):
        printer.print_job(job("B"))
    emulator.set_paper(PaperStatus.FULL)
    printer.print_job(job("B"))
    assert printer.paper_used_mm() == pytest.approx(2 * one)
    assert printer.roll_usage()["receipts"] == 2
    printer.reset_roll()
    assert printer.paper_used_mm() == 0


def test_the_roll_counter_survives_a_restart_in_the_terminals_store(emulator, tmp_path):
    from kiosk.store.counters import Counters
    from kiosk.store.outbox import Outbox

    def start(outbox):
        return network_printer(emulator.url, status_timeout_s=0.3, drain_timeout_s=2.0,
                               roll_store=Counters(outbox).slot("printer_roll"))

    outbox = Outbox(tmp_path / "outbox.sqlite3")
    first = start(outbox)
    first.print_job(job("A"))
    first.print_job(job("B"))
    used = first.roll_usage()
    first.stop()
    outbox.close()  # the kiosk restarts (watchdog, power cut, update)

    outbox = Outbox(tmp_path / "outbox.sqlite3")
    second = start(outbox)
    assert second.roll_usage() == used and used["receipts"] == 2 and used["mm"] > 100
    second.reset_roll()  # the technician fits a new roll; that is kept too
    assert start(outbox).roll_usage() == {"receipts": 0, "bytes": 0, "mm": 0.0}

    outbox.close()  # the store fails under a running printer: the receipt still prints
    second.print_job(job("C"))
    assert len(emulator.documents) == 3 and second.roll_usage()["receipts"] == 1
    second.stop()


def test_emulator_answers_status_as_the_domain_notes_say(emulator):
    def ask(conn, query):
        conn.sendall(query)
        return conn.recv(8)

    with socket.create_connection((emulator.host, emulator.port), timeout=2) as conn:
        assert ask(conn, b"\x10\x04\x04") == b"\x12"
        emulator.set_paper(PaperStatus.LOW)
        assert ask(conn, b"\x10\x04\x04") == b"\x1e"
        assert ask(conn, b"\x1dr\x01") == b"\x03"
        emulator.set_paper(PaperStatus.OUT)
        assert ask(conn, b"\x10\x04\x01") == b"\x1a"
        assert ask(conn, b"\x10\x04\x02") == b"\x32"
        assert ask(conn, b"\x10\x04\x04") == b"\x7e"
        assert ask(conn, b"\x1dr\x01") == b"\x0f"


def test_build_simulated_starts_an_emulator_and_writes_pngs(tmp_path):
    driver, emu = simulated.printer(SimulatedDevice(driver="simulated"), out_dir=tmp_path, status_timeout_s=0.5)
    try:
        assert emu is not None and emu.port > 0
        driver.print_job(job())
        assert emu.documents[0].qr_payloads
        assert emu.wait_for_documents(1)  # and its PNG written
        assert (tmp_path / "receipt-0001.png").stat().st_size > 5000
    finally:
        driver.stop()
        emu.stop()
    with pytest.raises(ConfigError):
        build(NoDevice(driver="none"))
    with pytest.raises(ConfigError):
        build(SimulatedDevice(driver="simulated"))  # only kiosk.sim builds a simulated printer


def test_serial_printer_over_a_pty():
    """The Serial transport: python-escpos Serial on one end of a pty, the emulator's parser on the other."""
    master, slave = os.openpty()
    state, docs = PrinterState(), []
    parser = EscposParser(state, docs.append)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            if select.select([master], [], [], 0.05)[0]:
                replies = parser.feed(os.read(master, 4096))
                if replies:
                    os.write(master, replies)

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    driver, emulator = build(
        SerialPrinter(driver="serial", port=os.ttyname(slave), timeout_s=1.0), status_timeout_s=0.5
    )
    try:
        assert emulator is None
        assert driver.refresh_status() == (DeviceStatus.ONLINE, PaperStatus.FULL)
        driver.print_job(job())
        assert docs[0].qr_payloads == [CERTIFICATE.qr_payload] and "刘䶮" in docs[0].text
        state.set_paper(PaperStatus.OUT)
        with pytest.raises(PaperOutError):
            driver.print_job(job("J2"))
        assert len(docs) == 1
    finally:
        driver.stop()
        stop.set()
        server.join(timeout=2)
        os.close(master)
        os.close(slave)


# --- the command line ----------------------------------------------------------------------


def kiosk(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TMPDIR": os.environ.get("TMPDIR", str(ROOT / ".tmp"))}
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "device", "printer", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_status_prints_json_and_fails_on_paper_out(emulator):
    ok = kiosk("--port", str(emulator.port), "--status")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout) == {"device": "online", "paper": "full"}
    emulator.set_paper(PaperStatus.OUT)
    out = kiosk("--url", emulator.url, "--status")
    assert out.returncode == 1
    assert json.loads(out.stdout) == {"device": "offline", "paper": "out"}
    assert "out of paper" in out.stderr


def test_cli_test_page_prints_chinese_punctuation_rare_character_and_qr(emulator):
    result = kiosk("--port", str(emulator.port), "--test-page")
    assert result.returncode == 0, result.stderr
    (doc,) = emulator.documents
    text = doc.text
    for expected in ("打印机测试页", "￥12.34", "，：（）", "刘䶮"):
        assert expected in text
    assert doc.qr_payloads and doc.raw.endswith(b"\x1dV\x00")


def test_cli_fails_clearly_when_silent_or_unreachable(emulator):
    emulator.set_silent(True)
    silent = kiosk("--port", str(emulator.port), "--test-page", "--timeout", "0.3")
    assert silent.returncode == 1
    assert "not printed" in silent.stderr and "no answer" in silent.stderr
    emulator.stop()
    gone = kiosk("--port", str(emulator.port), "--status", "--timeout", "0.3")
    assert gone.returncode == 1
    assert json.loads(gone.stdout)["device"] == "no_device"
    assert "cannot open" in gone.stderr


# --- the parser on arbitrary bytes ---------------------------------------------------------


def parse(chunks: list[bytes]):
    docs: list = []
    parser = EscposParser(PrinterState(), docs.append)
    replies = b"".join(parser.feed(c) for c in chunks)
    return [(d.items, d.raw) for d in docs], replies


def test_parser_result_does_not_depend_on_how_tcp_splits_the_stream():
    data = render_receipt(CERTIFICATE) * 2
    whole = parse([data])
    assert len(whole[0]) == 2
    assert parse([data[i : i + 1] for i in range(len(data))]) == whole


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=2000), cuts=st.lists(st.integers(0, 2000), max_size=8))
def test_parser_survives_random_bytes(data, cuts):
    points = sorted({c for c in cuts if c <= len(data)} | {0, len(data)})
    chunks = [data[a:b] for a, b in zip(points, points[1:], strict=False)]
    started = time.monotonic()
    assert parse(chunks) == parse([data])
    assert time.monotonic() - started < 2


@settings(max_examples=100, deadline=2000)
@given(garbage=st.binary(max_size=300).filter(lambda b: not any(c in b for c in LONG_DATA)))
def test_a_receipt_after_garbage_still_prints(garbage):
    docs, _ = parse([garbage + b"\n" + render_receipt(CERTIFICATE)])
    assert docs, "the receipt after the garbage was lost"
    assert any(getattr(item, "payload", None) == CERTIFICATE.qr_payload for item in docs[-1][0])


#: commands that announce a block of data (images, stored codes) and so rightly swallow what follows
LONG_DATA = (b"\x1d(", b"\x1c(", b"\x1b(", b"\x1b*", b"\x1dv", b"\x1d8", b"\x1d*")


def test_standalone_emulator_writes_a_png_per_receipt(tmp_path):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kiosk.sim.escpos",
            "--port",
            "0",
            "--out",
            str(tmp_path),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().split()[-1]
        assert url.startswith("tcp://127.0.0.1:")
        driver = network_printer(url, status_timeout_s=1.0)
        driver.print_job(job())
        driver.stop()
        png = tmp_path / "receipt-0001.png"
        wait_for(png.exists, 10, "the receipt picture")
        assert Image.open(png).size[0] == 384 + 32
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "1 receipt(s) printed" in out


def test_the_emulator_forgets_its_pages_on_clear_and_counts_afresh(emulator, printer):
    printer.print_job(job("A"))
    printer.print_job(job("B"))
    assert emulator.clear() == 2
    assert emulator.documents == [] and emulator.raw == b""
    printer.print_job(job("C"))
    assert emulator.wait_for_documents(1) and len(emulator.documents) == 1
    assert "个人参保缴费证明" in emulator.documents[0].text
