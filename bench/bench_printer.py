"""Receipt job size and print time: a typical certificate receipt over loopback TCP.

The shipped driver prints to the ESC/POS emulator exactly as to a network printer: status
check (``DLE EOT 1/4``), the job, ``GS r 1`` (answered once the job has been taken in), and
status again. Figures per run:

* render: ``Receipt`` -> ESC/POS bytes;
* print_job: the whole checked job, status queries included;
* send only: the job's bytes and one round trip (``GS r 1``), what the checks add to.

Also the job size, and what the same QR code would cost as a raster image (python-escpos
``qr(native=False)``), and what hostile streams cost the emulator (``python -m kiosk.sim.escpos``
in a subprocess): 20,000 tabs, and 1,000 x ``ESC d 255`` (feed 255 lines), each followed by a
cut and a status query; the time until the status answer arrives, and how much the emulator's
resident memory grew. Usage:
``.venv/bin/python bench/bench_printer.py [--runs N] [--columns 32|48] [--tabs N] [--feeds N] [--hostile-only]``.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time

from kiosk.hardware.printer import network_printer
from kiosk.hardware.receipt_escpos import qr_command, receipt_length_mm, render_receipt
from kiosk.receipt import PrintJob, Receipt
from kiosk.sim.escpos import PrinterEmulator
from kiosk.tours.soak import read_process

CERTIFICATE = Receipt(
    title="个人参保缴费证明",
    transaction_no="JY370921202611230001234",
    issued_at="2026-11-23 17:45:02",
    terminal_id="NY-370921-0001",
    lines=(
        ("姓名", "刘*"),
        ("证件号码", "370***********123X"),
        ("参保险种", "城乡居民基本养老保险"),
        ("参保状态", "正常参保"),
        ("参保地", "宁阳县"),
    ),
    table_header=("年月", "缴费档次", "个人缴费"),
    table_rows=tuple((f"2026-{m:02d}", "300元档", "300.00") for m in range(1, 7)),
    amount_fen=180000,
    qr_payload="https://zwfw.example.gov.cn/verify?no=JY370921202611230001234",
    footer=("本证明可扫码核验真伪", "宁阳县社会保险事业中心", "服务热线 12345"),
)


def _stats(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return f"{min(ms):8.2f} {statistics.median(ms):8.2f} {max(ms):8.2f}"


def _raster_qr_bytes(payload: str) -> int:
    from escpos.printer import Dummy

    dummy = Dummy()
    dummy.qr(payload, ec=1, size=6, native=False)
    return len(dummy.output)


def hostile_streams(tabs: int, feeds: int, columns: int = 32) -> list[tuple[str, float, int]]:
    """(name, seconds until the status answer, RSS growth in KiB) per stream, against a
    standalone emulator process; each stream ends with a cut and ``DLE EOT 1``."""
    streams = [
        (f"{tabs:,} x HT", b"\t" * tabs),
        (f"{feeds:,} x ESC d 255", b"\x1bd\xff" * feeds),
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk.sim.escpos", "--port", "0", "--columns", str(columns)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # its warnings about the streams
        text=True,
    )
    results = []
    try:
        host, port = proc.stdout.readline().split()[-1].removeprefix("tcp://").split(":")
        with socket.create_connection((host, int(port))) as conn:
            conn.settimeout(600)
            for name, data in streams:
                rss_before = read_process(proc.pid)[0]
                started = time.perf_counter()
                conn.sendall(data + b"\x1dV\x00\x10\x04\x01")
                answer = conn.recv(1)
                seconds = time.perf_counter() - started
                results.append((name, seconds if answer else float("nan"), read_process(proc.pid)[0] - rss_before))
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200, help="at least 2")
    ap.add_argument("--columns", type=int, default=32)
    ap.add_argument("--tabs", type=int, default=20_000, help="tabs in the hostile stream")
    ap.add_argument("--feeds", type=int, default=1_000, help="ESC d 255 commands in the hostile stream")
    ap.add_argument("--hostile-only", action="store_true", help="only the hostile streams")
    args = ap.parse_args(argv)

    hostile = hostile_streams(args.tabs, args.feeds, args.columns)
    if args.hostile_only:
        _print_hostile(hostile)
        return 0

    data = render_receipt(CERTIFICATE, width_chars=args.columns)
    render = []
    for _ in range(args.runs):
        started = time.perf_counter()
        render_receipt(CERTIFICATE, width_chars=args.columns)
        render.append(time.perf_counter() - started)

    dots = 576 if args.columns >= 48 else 384
    with PrinterEmulator(columns=args.columns, dots_per_line=dots) as emu:
        driver = network_printer(emu.url, width_chars=args.columns)
        jobs = []
        for i in range(args.runs):
            job = PrintJob(job_id=f"bench-{i}", receipt=CERTIFICATE)
            started = time.perf_counter()
            driver.print_job(job)
            jobs.append(time.perf_counter() - started)
        driver.stop()
        sends = []
        with socket.create_connection((emu.host, emu.port)) as conn:
            for _ in range(args.runs):
                started = time.perf_counter()
                conn.sendall(data + b"\x1dr\x01")
                conn.recv(1)
                sends.append(time.perf_counter() - started)
        printed = emu.printed

    qr = qr_command(CERTIFICATE.qr_payload)
    print(
        f"receipt: {CERTIFICATE.title}, {args.columns} columns, {args.runs} runs, {printed} receipts printed"
    )
    print(
        f"job size           {len(data):6d} bytes (native QR {len(qr)} bytes; as a raster image {_raster_qr_bytes(CERTIFICATE.qr_payload)} bytes)"
    )
    print(
        f"paper used         {receipt_length_mm(CERTIFICATE, width_chars=args.columns):6.1f} mm (estimate)"
    )
    print(f"{'':18} {'min ms':>8} {'median':>8} {'max ms':>8}")
    print(f"{'render':18} {_stats(render)}")
    print(f"{'print_job (first)':18} {jobs[0] * 1000:8.2f}   (connects; imports python-escpos)")
    print(f"{'print_job (rest)':18} {_stats(jobs[1:])}")
    print(f"{'send + GS r 1':18} {_stats(sends)}")
    _print_hostile(hostile)
    return 0


def _print_hostile(results: list[tuple[str, float, int]]) -> None:
    print("hostile stream, then cut and DLE EOT 1    answered after   emulator RSS growth")
    for name, seconds, rss_kib in results:
        print(f"  {name:38} {seconds:10.3f} s {rss_kib / 1024:12.1f} MiB")


if __name__ == "__main__":
    sys.exit(main())
