"""kiosk.widgets.wrap.lines: a label's paragraph broken into lines that fit, by the reader's
rule (its speed: ``bench/bench_wrap.py``)."""

from __future__ import annotations

import os

os.environ.setdefault("KIVY_NO_ARGS", "1")

from kiosk.widgets.wrap import _width, lines  # noqa: E402

MATERIALS = ("申请人有效身份证件原件及复印件一份；户口簿原件；近期一寸免冠彩色照片两张；"
             "《城乡居民基本养老保险参保登记表》一式两份，咨询电话 0538-5621234，"
             "办理时限 20 个工作日。")


def _line_width(line: str, size: float) -> float:
    return sum(_width(ch, size, False, "Roboto") for ch in line)


def test_every_line_fits_and_no_number_is_cut():
    text = lines.__wrapped__(MATERIALS, 300.0, 28.0)
    broken = text.split("\n")
    assert len(broken) > 3
    assert all(_line_width(line, 28.0) <= 300.0 for line in broken)
    assert "".join(broken).replace(" ", "") == MATERIALS.replace(" ", "")  # nothing lost or added
    assert any("0538-5621234" in line or line.endswith("0538-") for line in broken)  # breaks only after a dash
    assert not any(line.endswith("053") or line.startswith("8-") for line in broken)
