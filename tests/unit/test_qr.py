"""kiosk.widgets.qr: the code's modules as the standard encoder makes them, and encoded ahead
off the UI thread for a screen about to show it."""

from __future__ import annotations

import os
import time

os.environ.setdefault("KIVY_NO_ARGS", "1")

import qrcode  # noqa: E402

from kiosk.widgets.qr import BORDER, prepare, qr_modules  # noqa: E402


def test_the_modules_are_the_encoders_matrix_top_row_first():
    payload = "https://zwfw.example.cn/rate?txn=NY-0001&area=370921&item=A01"
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=BORDER)
    qr.add_data(payload)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    side, modules = qr_modules(payload)
    assert side == len(matrix) and len(modules) == side * side
    assert [[modules[r * side + c] == 0 for c in range(side)] for r in range(side)] == matrix
    assert modules[0] == 255 and modules[BORDER * side + BORDER] == 0  # white border, then a finder's corner


def test_a_prepared_payload_is_drawn_from_what_was_kept():
    payload = "ZWFW-RATE:prepared-ahead"
    before = qr_modules.cache_info()
    prepare(payload)
    deadline = time.monotonic() + 10
    while qr_modules.cache_info().currsize == before.currsize and time.monotonic() < deadline:
        time.sleep(0.01)
    hits = qr_modules.cache_info().hits
    qr_modules(payload)  # what the screen asks as it is shown
    assert qr_modules.cache_info().hits == hits + 1
