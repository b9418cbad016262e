"""Where the CJK font comes from. Kivy's default font has no Chinese glyphs.

Noto Sans SC (SIL OFL) ships in the ``pylopdf-fonts-zh-cn`` wheel, a declared dependency, so
a fresh install has it; Debian's WenQuanYi Micro Hei is the fallback. Noto Sans SC covers
CJK Extension A (e.g. 䶮 in the name 刘䶮), which name cards need.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

from kiosk.errors import ConfigError

_FALLBACKS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)


@cache
def cjk_font_path() -> Path:
    """Path of a font file that renders Simplified Chinese, or ConfigError saying what to install."""
    spec = importlib.util.find_spec("pylopdf_fonts_zh_cn")
    if spec and spec.submodule_search_locations:
        candidate = Path(next(iter(spec.submodule_search_locations))) / "NotoSansSC-Regular.otf"
        if candidate.is_file():
            return candidate
    for path in _FALLBACKS:
        if path.is_file():
            return path
    raise ConfigError(
        "no Chinese font found: run scripts/setup.sh (installs pylopdf-fonts-zh-cn and fonts-wqy-microhei)"
    )
