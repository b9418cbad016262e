"""A QR code drawn from a payload string (payment, verification, online rating).

Encoding is pure Python (``qrcode`` tries all eight masks): 40-50 ms on the development
machine, on the UI thread if the screen asks for it as it is shown. A screen that knows the next
screen's payload ahead (the result screen knows the rating's) calls ``prepare`` while the
resident reads, and the code is then drawn from what was kept. The texture is made from the
modules directly (``BOX`` pixels each, as the PNG it replaced): no PNG made and read back.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import qrcode
from kivy.graphics.texture import Texture
from kivy.properties import StringProperty
from kivy.uix.image import Image

BORDER = 2  # modules of white around the code (the scanners here read it; the standard asks 4)
#: pixels per module in the texture: an image widget shows a texture at most at its own size
#: (``fit_mode`` "scale-down"), so this is the largest a code is drawn where the box allows more
BOX = 8
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


@lru_cache(maxsize=16)
def qr_modules(payload: str) -> tuple[int, bytes]:
    """The code for ``payload`` as (side, one byte per module: 0 dark, 255 light), border
    included, top row first."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=BORDER)
    qr.add_data(payload)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    return len(matrix), bytes(0 if dark else 255 for row in matrix for dark in row)


def prepare(payload: str) -> None:
    """Encode ``payload`` off the UI thread, for a screen about to show it."""
    global _pool
    if not payload:
        return
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qr")
    _pool.submit(qr_modules, payload)


def qr_texture(payload: str) -> Texture:
    side, modules = qr_modules(payload)
    dark, light = bytes(BOX), b"\xff" * BOX
    rows = []
    for r in range(side):
        row = b"".join(dark if v == 0 else light for v in modules[r * side : (r + 1) * side])
        rows.append(row * BOX)
    texture = Texture.create(size=(side * BOX, side * BOX), colorfmt="luminance")
    texture.blit_buffer(b"".join(rows), colorfmt="luminance", bufferfmt="ubyte")
    texture.flip_vertical()  # the first row is the top one
    texture.mag_filter = "nearest"  # keep the modules sharp when scaled
    return texture


class QrCode(Image):
    payload = StringProperty("")

    def on_payload(self, _instance, payload: str) -> None:
        self.texture = qr_texture(payload) if payload else None
