"""A receipt printer in software: a loopback TCP ESC/POS endpoint that parses what it is sent.

The real driver (python-escpos ``Network``) talks to it exactly as to a network printer on
port 9100. It answers real-time status (``DLE EOT n``) and ``GS r 1``, can run out of paper
(at once or part-way through a job), go offline or go silent, keeps every cut-delimited
document as parsed lines and QR payloads plus the raw bytes, and renders a document to a PNG
so that a reviewer can see the receipt. Run it on its own with
``python -m kiosk.sim.escpos --port 9100 --out var/receipts``.

- ``document``: what came out (``Document`` of ``PrintedLine`` and ``PrintedQr``);
- ``state``: paper, cover and voice, and the status bytes answered (``PrinterState``);
- ``parser``: the byte stream, incrementally (``EscposParser``);
- ``page``: the paper as it comes out, wrapped at its width, with the limits on what is kept;
- ``render``: a document as a PNG of the paper (``render_document_png``);
- ``server``: the TCP endpoint (``PrinterEmulator``); ``__main__``: the command line.
"""

from kiosk.sim.escpos.document import Document, PrintedImage, PrintedLine, PrintedQr, Span
from kiosk.sim.escpos.parser import EscposParser
from kiosk.sim.escpos.render import render_document_png
from kiosk.sim.escpos.server import PrinterEmulator
from kiosk.sim.escpos.state import PrinterState

__all__ = [
    "Document",
    "EscposParser",
    "PrintedLine",
    "PrintedImage",
    "PrintedQr",
    "PrinterEmulator",
    "PrinterState",
    "Span",
    "render_document_png",
]
