"""The layers stay apart: no kivy below the UI, no device/HTTP/SQLite library in screens, and
no product module reaching the simulation or the tours."""

import ast
from pathlib import Path

import kiosk

ROOT = Path(kiosk.__file__).parent
UI = {"app.py", "kivy_setup.py", "watchdog.py", "sim/panel.py", "sim/panel_widgets.py"}
UI_DIRS = {"screens", "widgets", "tours"}
DEVICE_LIBS = {"serial", "smartcard", "escpos", "requests", "sqlite3", "usb", "cv2"}


def full_imports(path: Path) -> set[str]:
    """Every module a file imports, by its dotted name (``from a import b`` counts ``a.b`` too,
    since ``b`` may be a module); imports inside functions included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def imports(path: Path) -> set[str]:
    return {name.split(".")[0] for name in full_imports(path)}


#: what stands in for the outside world, and the scripted ways through the kiosk
SIMULATION = ("kiosk.sim", "kiosk.tours")
#: the only modules that may reach them: the composition root and the commands
MAY_USE_SIMULATION = {"bootstrap.py"}


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


def is_product(path: Path) -> bool:
    rel = path.relative_to(ROOT)
    return rel.parts[0] not in ("sim", "tours", "commands") and str(rel) not in MAY_USE_SIMULATION


def test_no_product_module_imports_the_simulation_or_the_tours():
    offenders = [
        f"{p.relative_to(ROOT)}: {sorted(n for n in full_imports(p) if n.startswith(SIMULATION))}"
        for p in modules()
        if is_product(p) and any(n == s or n.startswith(s + ".") for n in full_imports(p) for s in SIMULATION)
    ]
    assert offenders == []


def test_the_simulation_rule_sees_a_product_module_that_breaks_it(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from kiosk.sim.demo_data import BY_KEY\n    from kiosk import tours\n")
    assert {"kiosk.sim.demo_data", "kiosk.tours"} <= full_imports(bad)


def test_the_scan_sees_the_layers_it_guards():
    # if the layout moved, the two tests above would pass vacuously
    names = {str(p.relative_to(ROOT)) for p in modules()}
    assert {"services/journey.py", "hardware/base.py", "screens/home.py", "app.py"} <= names
    assert "kivy" in imports(ROOT / "app.py")


def test_the_benchmarks_and_the_product_never_import_the_tests():
    """What both need (a terminal's config in a folder, a private pcscd) lives in kiosk.sim."""
    bench = ROOT.parent / "bench"
    files = [*modules(), *bench.glob("*.py")]
    offenders = [
        str(p.relative_to(ROOT.parent)) for p in files
        if {"tests", "pcscd_support"} & imports(p) or '"tests"' in p.read_text(encoding="utf-8")
    ]
    assert offenders == []
    assert len(list(bench.glob("bench_*.py"))) >= 5  # the scan sees the benchmarks
