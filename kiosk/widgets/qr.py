"""A QR code drawn from a payload string (payment, verification, online rating)."""

from __future__ import annotations

import io

import qrcode
from kivy.core.image import Image as CoreImage
from kivy.properties import StringProperty
from kivy.uix.image import Image


def qr_png(payload: str, box_size: int = 8) -> bytes:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=2)
    qr.add_data(payload)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()


class QrCode(Image):
    payload = StringProperty("")

    def on_payload(self, _instance, payload: str) -> None:
        if not payload:
            self.texture = None
            return
        texture = CoreImage(io.BytesIO(qr_png(payload)), ext="png").texture
        texture.mag_filter = "nearest"  # keep the modules sharp when scaled
        self.texture = texture
