"""The English catalogue: complete for every screen string, and the runtime reads it right.

The first test is the gate: it runs the extractor over the whole package and fails, naming
the strings, when a screen string is missing from ``kiosk.po`` or has no English. Fix it with
``kiosk i18n extract`` and a translation for each string it lists.
"""

from __future__ import annotations

import io
import os
import shutil
import time

from babel.messages.extract import extract as babel_extract

import kiosk.i18n as i18n
from kiosk.commands.i18n import (
    extract,
    extract_kv,
    extract_python,
    merge,
    new_catalogue,
    problems,
    read_catalogue,
)

# --- the gate -------------------------------------------------------------------------------


def test_every_screen_string_is_in_the_catalogue_with_english():
    extracted = extract()
    found = problems(extracted, read_catalogue())
    assert found == {"missing": [], "untranslated": []}, (
        "run `python -m kiosk.commands.i18n extract` and translate these in kiosk/locale/en/LC_MESSAGES/kiosk.po: "
        f"{found}"
    )
    assert len(extracted) > 200  # the extractor really walked the screens, kv files and errors


def test_the_extractor_sees_the_strings_of_each_kind_of_source():
    extracted = {m.id: m for m in extract() if m.id}
    # a kv rule, both branches of a conditional, a Python tuple pair, an error class, a say()
    assert extracted["返回首页"].string == "Home"
    assert extracted["大字版"].string == "Large text" and extracted["标准字"].string == "Standard"
    assert extracted["请将居民身份证放在读卡区"].string == "Place your ID card on the reader"
    assert extracted["读卡失败，请重新放置证件"].string  # kiosk/errors.py class attribute pair
    assert any(loc[0] == "kiosk/errors.py" for loc in extracted["读卡失败，请重新放置证件"].locations)
    assert "宁阳县葛石镇便民服务中心自助终端" not in extracted  # configuration data, not a screen string


# --- extraction rules, on small sources --------------------------------------------------------


def _run(method, source: str, **options) -> dict[str, str]:
    found = babel_extract(method, io.BytesIO(source.encode("utf-8")), options=options)
    out: dict[str, str] = {}
    for _lineno, message, comments, _context in found:
        en = next((c[4:] for c in comments if c.startswith("en: ")), "")
        out[message] = out.get(message) or en
    return out


def test_kv_pairs_zh_with_en_branch_by_branch_and_keeps_lone_chinese():
    kv = '''
<Demo>:
    BigButton:
        zh: "打开语音" if app.muted else "静音"
        en: "Voice on" if app.muted else "Mute"
    BiLabel:
        zh: ("请选择原因" if root.bad else "可不选") if root.level else ""
        en: ("Choose a reason" if root.bad else "Optional") if root.level else ""
    BiLabel:
        placeholder_zh: "密码"
        placeholder_en: "PIN"
    Label:
        text: {"info": "提示", "error": "错误"}[root.level]
        on_release: app.say("已保存", "Saved")
'''
    found = _run(extract_kv, kv)
    assert found["打开语音"] == "Voice on" and found["静音"] == "Mute"
    assert found["请选择原因"] == "Choose a reason" and found["可不选"] == "Optional"
    assert found["密码"] == "PIN"
    assert found["已保存"] == "Saved"
    assert found["提示"] == "" and found["错误"] == ""  # found, and the test above demands English for them


def test_python_pairs_keywords_names_and_neighbours_and_skips_non_screen_text():
    source = '''
"""模块说明 docstring is not a screen string."""
class NoCard(KioskError):
    """证件 class docstring."""
    message_zh = "未检测到证件"
    message_en = "No card found"

_METHODS = {"idcard": ("请放置身份证", "Place your ID card")}

def show(app, n):
    log.info("日志不是界面文字 %s", n)
    app.say("已打印", "Printed")
    BigButton(zh="确定", en="OK")
    Outcome(title_zh="完成", title_en="Done", message_zh=f"共 {n} 条", message_en=f"{n} rows")
    lines = (("中文", "汉字"), ("ASCII", "0123"))
    return "【已选】"
'''
    ui = _run(extract_python, source, all_literals="true")
    assert ui["未检测到证件"] == "No card found"
    assert ui["请放置身份证"] == "Place your ID card"
    assert ui["已打印"] == "Printed" and ui["确定"] == "OK" and ui["完成"] == "Done"
    assert ui["【已选】"] == ""  # a lone Chinese literal of the Kivy layer is still a screen string
    assert "中文" in ui and ui["中文"] == ""  # rows of a table are not paired across rows
    for never in ("模块说明 docstring is not a screen string.", "证件 class docstring.", "日志不是界面文字 %s"):
        assert never not in ui
    assert not any("共" in k for k in ui)  # f-strings are assembled at run time
    services = _run(extract_python, source)  # outside the Kivy layer only pairs count
    assert "【已选】" not in services and "中文" not in services
    assert services["未检测到证件"] == "No card found"


def test_merge_keeps_reviewed_translations_adds_new_strings_and_drops_gone_ones():
    po = new_catalogue()
    po.add("返回首页", "Back to the start")  # reviewed, differs from the code's English
    po.add("旧字符串", "Old")
    po.add("待翻译", "")
    code = new_catalogue()
    code.add("返回首页", "Home")
    code.add("待翻译", "To translate")
    code.add("新字符串", "New")
    merged = merge(po, code)
    assert merged.get("返回首页").string == "Back to the start"
    assert merged.get("待翻译").string == "To translate"
    assert merged.get("新字符串").string == "New"
    assert merged.get("旧字符串") is None
    assert problems(code, merged) == {"missing": [], "untranslated": []}


# --- runtime ----------------------------------------------------------------------------------


def test_translate_reads_the_compiled_catalogue():
    i18n.reload()
    assert i18n.translate("返回首页", "en") == "Home"
    assert i18n.translate("返回首页", "zh_CN") == "返回首页"
    assert i18n.translate("某个数据值", "en") == "某个数据值"  # unknown: unchanged
    assert i18n.known("返回首页") and not i18n.known("某个数据值")


def test_labels_put_the_active_language_first_and_fall_back_to_the_code_english():
    assert i18n.primary("返回首页", "ignored", "zh") == "返回首页"
    assert i18n.secondary("返回首页", "ignored", "zh") == "Home"  # the catalogue beats the literal
    assert i18n.primary("返回首页", "", "en") == "Home"
    assert i18n.secondary("返回首页", "", "en") == "返回首页"
    # data (an item name from services.toml): the English beside it in the code
    assert i18n.primary("个人参保证明打印X", "Print a certificate", "en") == "Print a certificate"
    assert i18n.secondary("个人参保证明打印X", "Print a certificate", "en") == "个人参保证明打印X"
    # no English anywhere: Chinese stays on the big line in English mode, nothing beneath
    assert i18n.primary("王**", "", "en") == "王**" and i18n.secondary("王**", "", "en") == ""
    assert i18n.both("网络中断", "Offline", "en") == "Offline  网络中断"
    # a catalogue string passed in the English slot (a masked name above "请取走您的身份证") is translated
    assert i18n.primary("王** 370***********2819", "请取走您的身份证", "en") == "Please take your ID card"
    assert i18n.secondary("王** 370***********2819", "请取走您的身份证", "zh") == "Please take your ID card"
    assert i18n.say_in("返回首页", "", "en_US") == ("Home", "en")
    assert i18n.say_in("王**", "", "en") == ("王**", "zh")


def test_the_mo_is_compiled_when_missing_or_older_than_the_po(tmp_path, monkeypatch):
    folder = tmp_path / "locale" / "en" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    shutil.copy(i18n.po_path("en"), folder / "kiosk.po")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path / "locale")
    i18n.reload()
    try:
        assert not i18n.mo_path("en").exists()
        assert i18n.translate("返回首页", "en") == "Home"
        assert i18n.mo_path("en").exists()
        # edit the .po: the stale .mo is rebuilt on the next load
        po = folder / "kiosk.po"
        po.write_text(po.read_text(encoding="utf-8").replace('msgstr "Home"', 'msgstr "Start page"'), encoding="utf-8")
        past = time.time() - 60
        os.utime(i18n.mo_path("en"), (past, past))
        i18n.reload()
        assert i18n.translate("返回首页", "en") == "Start page"
    finally:
        i18n.reload()  # later tests read the real catalogue again


def test_a_mo_that_cannot_be_written_falls_back_to_compiling_in_memory(tmp_path, monkeypatch):
    folder = tmp_path / "locale" / "en" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    shutil.copy(i18n.po_path("en"), folder / "kiosk.po")
    (folder / "kiosk.mo").mkdir()  # in the way: the atomic replace fails, as on a read-only install
    past = time.time() - 60
    os.utime(folder / "kiosk.mo", (past, past))
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path / "locale")
    i18n.reload()
    try:
        assert i18n.translate("返回首页", "en") == "Home"
        assert (folder / "kiosk.mo").is_dir()
        assert not list(folder.glob(".kiosk-*"))  # no temp file left behind
    finally:
        i18n.reload()
