"""What the screens draw stays cheap to rasterise on a CPU: a rounded card is a ``CardShape``
(kiosk/widgets/card.py), never Kivy's ``RoundedRectangle`` (a fan of long thin triangles) or a
``Line`` drawn round a rectangle or a circle (a fan at each of its ~120 points, drawn even when
transparent). On home they were ~22 ms of a 26-33 ms frame."""

import re
from pathlib import Path

import kiosk

ROOT = Path(kiosk.__file__).parent
#: the kv rules and the drawing code of what a resident or a technician sees
PRODUCT_UI = [p for pattern in ("*.kv", "screens/*.kv", "widgets/*.kv", "widgets/*.py", "screens/*.py", "app.py")
              for p in ROOT.glob(pattern)]
SLOW = re.compile(r"\bRoundedRectangle\b|\bEllipse\b|rounded_rectangle|\bcircle\s*[:=]|\bellipse\s*[:=]")


def test_the_rule_reads_the_screens_and_widgets():
    names = {p.name for p in PRODUCT_UI}
    assert {"app.kv", "common.kv", "guide.kv", "pictures.py", "card.py"} <= names


def test_no_screen_or_widget_draws_a_triangle_fan():
    found = []
    for path in PRODUCT_UI:
        if path.name == "card.py":
            continue  # it says in words what it replaces
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if SLOW.search(code):
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not found, "draw these with CardShape:\n" + "\n".join(found)
