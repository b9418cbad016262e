"""The screenshot comparison leaves out the widgets whose content differs per run (a reference
number with the time in it, a countdown, a QR code, the shuffled PIN keypad). A mask named by
an id the screen no longer has masks nothing, and the comparison fails on a loaded machine
only: every name must be an id in its screen's kv rule."""

from __future__ import annotations

import re
from pathlib import Path

from kiosk.tours.i18n import VOLATILE

SCREENS = Path(__file__).resolve().parents[2] / "kiosk" / "screens"


def test_every_masked_widget_is_an_id_of_its_screen():
    missing = []
    for screen, names in VOLATILE.items():
        ids = set(re.findall(r"^\s*id:\s*(\w+)", (SCREENS / f"{screen}.kv").read_text(), re.M))
        missing += [f"{screen}:{name}" for name in names if name not in ids]
    assert not missing
    assert {"result", "payment_qr", "rating"} <= set(VOLATILE)
