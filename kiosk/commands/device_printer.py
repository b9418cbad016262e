"""``kiosk device printer``: ask a receipt printer for its status or print a test page.

For technicians on site and for scripts: ``--status`` prints one JSON object and exits 0 only
when the printer can print; ``--test-page`` prints Chinese text with ￥ and full-width
punctuation, a rare name character, a native QR code and a cut, through the real driver.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from kiosk.errors import PaperOutError, PrinterError
from kiosk.hardware.base import PaperStatus

TEST_PAGE_QR = "https://zwfw.example.gov.cn/verify?code=TEST-PAGE"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("printer", help="receipt printer: real-time status or a test page")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="printer address, tcp://HOST:PORT")
    where.add_argument("--port", type=int, help="a printer on 127.0.0.1:PORT (e.g. the emulator)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--status", action="store_true", help="print {device, paper} as JSON")
    what.add_argument("--test-page", action="store_true", help="print a test page")
    p.add_argument(
        "--encoding", default="gb18030", help="Chinese encoding: gb18030 (default) or gbk"
    )
    p.add_argument(
        "--columns", type=int, default=32, help="characters per line: 32 (58 mm) or 48 (80 mm)"
    )
    p.add_argument(
        "--timeout", type=float, default=2.0, help="seconds to wait for each status answer"
    )
    p.set_defaults(func=run)


def test_page_receipt():
    from kiosk.receipt import Receipt

    return Receipt(
        title="打印机测试页",
        transaction_no="TEST-0001",
        issued_at=dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
        terminal_id="TEST",
        lines=(
            ("中文", "政务服务自助终端"),
            ("标点", "，：（）！？、。"),
            ("生僻字", "刘䶮"),
            ("English", "ABC abc 0123456789"),
        ),
        table_header=("项目", "数量", "金额"),
        table_rows=(("测试项目", "1", "12.34"),),
        amount_fen=1234,
        qr_payload=TEST_PAGE_QR,
        footer=("如能看清以上文字与二维码，打印正常",),
    )


def run(args: argparse.Namespace) -> int:
    from kiosk.hardware.printer import network_printer
    from kiosk.receipt import PrintJob

    url = args.url or f"tcp://127.0.0.1:{args.port}"
    printer = network_printer(
        url,
        encoding=args.encoding,
        timeout_s=max(args.timeout, 1.0),
        width_chars=args.columns,
        status_timeout_s=args.timeout,
    )
    try:
        if args.status:
            status, paper = printer.refresh_status()
            print(json.dumps({"device": status.value, "paper": paper.value}))
            if paper is PaperStatus.OUT:
                print(f"kiosk: {url}: out of paper", file=sys.stderr)
                return 1
            if not status.usable or paper is PaperStatus.UNKNOWN:
                print(f"kiosk: {printer.last_error() or url + ': not ready'}", file=sys.stderr)
                return 1
            return 0
        job = PrintJob(
            job_id=f"test-page-{dt.datetime.now():%Y%m%d%H%M%S%f}", receipt=test_page_receipt()
        )
        try:
            printer.print_job(job)
        except PaperOutError as e:
            print(f"kiosk: out of paper: {e}", file=sys.stderr)
            return 1
        except PrinterError as e:
            print(f"kiosk: test page not printed: {e}", file=sys.stderr)
            return 1
        print(f"test page printed on {url}")
        return 0
    finally:
        printer.stop()
