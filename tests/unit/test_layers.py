"""The layers stay apart: no kivy below the UI, no device/HTTP/SQLite library in screens."""

import ast
from pathlib import Path

import kiosk

ROOT = Path(kiosk.__file__).parent
UI = {"app.py", "kivy_setup.py", "watchdog.py", "sim/panel.py"}
UI_DIRS = {"screens", "widgets", "tours"}
DEVICE_LIBS = {"serial", "smartcard", "escpos", "requests", "sqlite3", "usb"}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def modules():
    return [p for p in ROOT.rglob("*.py")]


def is_ui(path: Path) -> bool:
    rel = path.relative_to(ROOT)
    return rel.parts[0] in UI_DIRS or str(rel) in UI or rel.parts[0] == "commands"


def test_nothing_below_the_ui_imports_kivy():
    offenders = [str(p.relative_to(ROOT)) for p in modules() if not is_ui(p) and "kivy" in imports(p)]
    assert offenders == []


def test_screens_and_widgets_use_no_device_http_or_sqlite_library():
    offenders = [
        f"{p.relative_to(ROOT)}: {sorted(imports(p) & DEVICE_LIBS)}"
        for p in modules()
        if (p.relative_to(ROOT).parts[0] in UI_DIRS or p.name in UI) and imports(p) & DEVICE_LIBS
    ]
    assert offenders == []


def test_the_scan_sees_the_layers_it_guards():
    # if the layout moved, the two tests above would pass vacuously
    names = {str(p.relative_to(ROOT)) for p in modules()}
    assert {"services/journey.py", "hardware/base.py", "screens/home.py", "app.py"} <= names
    assert "kivy" in imports(ROOT / "app.py")
