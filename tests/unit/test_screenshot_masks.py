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


def test_overlapping_masks_are_left_out_once(tmp_path):
    """The reviewed and the new shot each mask the same large widget: the area compared is what
    neither covers, counted once (subtracting each box made it negative, and any change 100 %)."""
    from PIL import Image

    from kiosk.commands.screenshots import changed_fraction

    a, b = tmp_path / "a.png", tmp_path / "b.png"
    Image.new("RGB", (100, 100), "white").save(a)
    moved = Image.new("RGB", (100, 100), "white")
    moved.paste((0, 0, 0), (0, 90, 10, 100))  # 100 pixels changed below the masks
    moved.save(b)
    box = [0, 0, 100, 80]  # 80 % of the picture, masked twice
    assert changed_fraction(a, b, [box, box]) == 100 / 2000
