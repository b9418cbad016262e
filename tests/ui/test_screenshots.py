"""Every screen against its reviewed screenshot, and English mode on the real window.

``kiosk screenshots`` runs twice, one process per mode (one Kivy window per process; the two
run side by side, one per core), and walks every screen in standard or in elder mode, each in
Chinese and then, after a tap on the 中文/English switch, in English. The tests then check, for
each mode, that:

* each screen still looks like its reviewed picture in ``docs/screenshots/`` (a share of
  changed pixels under a tolerance, values that differ per run masked out); a screen that
  moved is named and a diff image (changed pixels in red) is left in the test's folder;
* in both languages every catalogue string on screen has its English on screen too;
* the language switch never touched the resident's session, and the voice spoke English.

After an intended layout change: ``python -m kiosk.commands.screenshots --out docs/screenshots``,
look at the pictures, commit them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk import i18n
from kiosk.commands.screenshots import SCREEN_TOLERANCE, compare, mode_of

pytestmark = [pytest.mark.ui, pytest.mark.timeout(1200)]

REVIEWED = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
#: screens every build has (the others are checked once they are in the reviewed set)
CORE = ("home", "help", "guide", "identify", "simulator", "record", "result", "rating", "closed", "admin_pin")


@pytest.fixture(scope="module", params=["standard", "elder"])
def run(request, tmp_path_factory):
    """One mode's pass (tests/support/scheduling.py gives each its own worker and window)."""
    mode = request.param
    out = tmp_path_factory.mktemp(f"screenshots-{mode}")
    proc = subprocess.run([sys.executable, "-m", "kiosk.commands.screenshots", "--out", str(out), "--modes", mode],
                          capture_output=True, text=True, timeout=1100)
    manifest = json.loads((out / "screens.json").read_text()) if (out / "screens.json").exists() else {}
    return {"proc": proc, "out": out, "manifest": manifest, "mode": mode}


def test_the_tour_photographs_every_screen_in_both_modes_and_languages(run):
    assert run["proc"].returncode == 0, run["proc"].stdout[-3000:] + run["proc"].stderr[-3000:]
    assert run["manifest"]["ok"], run["manifest"]["failure"]
    names = set(run["manifest"]["screens"])
    mode = run["mode"]
    for screen in CORE:
        for lang in ("zh", "en"):
            assert f"{screen}-{mode}-{lang}" in names
    assert {mode_of(name) for name in names} == {mode}
    assert (run["out"] / f"home-{mode}-en.png").stat().st_size > 10_000


def test_no_screen_clips_overlaps_or_leaves_a_bare_band(run):
    """The layout audit (kiosk/tours/layout.py) on every screen x mode x language: text that does
    not fit, a word cut in the middle, overlapping siblings, uneven rows, text under 18 dp in
    大字版, targets under 60 dp, disabled controls under 3:1, a bare band over a quarter."""
    found = {name: s["layout"] for name, s in run["manifest"]["screens"].items() if s.get("layout")}
    assert found == {}
    assert all("layout" in s for s in run["manifest"]["screens"].values())  # the audit ran


def test_each_screen_matches_its_reviewed_screenshot(run):
    result = compare(REVIEWED, run["out"], run["out"] / "diff", (run["mode"],))
    moved = {name: f"{result['fractions'][name]:.2%}" for name in result["moved"]}
    assert not moved, (f"screens moved (more than {SCREEN_TOLERANCE:.1%} of pixels): {moved}; "
                       f"diff images in {run['out'] / 'diff'}")
    assert not result["missing"], f"reviewed screens the tour no longer reaches: {result['missing']}"
    assert len(result["fractions"]) >= 2 * len(CORE)


def test_a_layout_change_would_be_caught(run, tmp_path):
    """The tolerance is not so loose that a moved button passes: shift one screen by 12 px."""
    from PIL import Image

    from kiosk.commands.screenshots import changed_fraction

    source = run["out"] / f"home-{run['mode']}-zh.png"
    shifted = tmp_path / "shifted.png"
    with Image.open(source) as image:
        image = image.convert("RGB")
        moved = Image.new("RGB", image.size, image.getpixel((0, image.size[1] // 2)))
        moved.paste(image.crop((0, 0, image.size[0], image.size[1] - 12)), (0, 12))
        moved.save(shifted)
    assert changed_fraction(source, shifted, []) > SCREEN_TOLERANCE
    assert changed_fraction(source, source, []) == 0


def _uncovered(screen: dict) -> list[str]:
    """Catalogue strings on the screen whose English is not on the screen."""
    shown = set(screen["texts"])
    return [t for t in screen["texts"] if i18n.has_cjk(t) and i18n.known(t) and i18n.translate(t, "en") not in shown]


def test_every_screen_string_shows_its_english_in_both_languages(run):
    screens = run["manifest"]["screens"]
    missing = {name: _uncovered(s) for name, s in screens.items() if _uncovered(s)}
    assert not missing, f"screen strings shown without their English: {missing}"
    english = [s for s in screens.values() if s["lang"] == "en"]
    assert len(english) >= len(CORE)


def test_english_mode_puts_english_first(run):
    """On the English home screen the English title comes before (above) the Chinese one."""
    home = run["manifest"]["screens"][f"home-{run['mode']}-en"]["texts"]
    assert home.index("Please choose a service") < home.index("请选择要办理的事项")
    chinese = run["manifest"]["screens"][f"home-{run['mode']}-zh"]["texts"]
    assert chinese.index("请选择要办理的事项") < chinese.index("Please choose a service")
    assert "Chinese" in home and "English" in chinese  # the switch names the other language


def test_switching_language_keeps_the_session(run):
    kept = run["manifest"]["facts"]["switch_kept_session"]
    assert {f"{screen}-{run['mode']}" for screen in ("identify", "record", "result", "rating")} <= set(kept)
    assert all(kept.values()), {k: v for k, v in kept.items() if not v}


def test_the_voice_speaks_the_active_language(run):
    spoken = run["manifest"]["facts"]["spoken"]
    english = [text for text, lang in spoken if lang == "en"]
    assert english, spoken
    assert not [t for t in english if i18n.has_cjk(t)]
    assert any(lang == "zh" and i18n.has_cjk(text) for text, lang in spoken)
