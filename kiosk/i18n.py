"""The translation catalogue: Chinese is the source language, English comes from gettext.

Every message id is the Chinese string as written in the code (kv rules, screens, errors,
outcomes). The English translations live in ``kiosk/locale/en/LC_MESSAGES/kiosk.po``, which
``kiosk i18n extract`` keeps complete; the compiled ``.mo`` beside it is built here on first
use whenever it is missing or older than the ``.po``, so a fresh checkout needs no build step.

Strings that come from data (catalogue item names, backend values, strings assembled at run
time) are not in the catalogue: for those the English written next to them in the code is
the fallback. No kivy import: the services and the tests use this too.
"""

from __future__ import annotations

import gettext
import io
import logging
import os
import re
import tempfile
import threading
from pathlib import Path

log = logging.getLogger(__name__)

DOMAIN = "kiosk"
LOCALE_DIR = Path(__file__).resolve().with_name("locale")
LANGUAGES = ("zh", "en")  # zh is the source language: it needs no catalogue

_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef\U00020000-\U0002ffff]")
_lock = threading.Lock()
_loaded: dict[str, gettext.NullTranslations] = {}


def has_cjk(text: str) -> bool:
    """True when ``text`` holds Chinese characters or full-width punctuation."""
    return bool(_CJK.search(text))


def normalise(lang: str) -> str:
    """``zh_CN`` / ``zh`` -> ``zh``, ``en`` / ``en_US`` -> ``en`` (session locales use the long form)."""
    return "en" if lang.lower().startswith("en") else "zh"


def po_path(lang: str = "en") -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(lang: str = "en") -> Path:
    return po_path(lang).with_suffix(".mo")


def compile_catalogue(lang: str = "en") -> Path:
    """Compile the ``.po`` to the ``.mo`` next to it (atomically: another process may be reading)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    po, mo = po_path(lang), mo_path(lang)
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    fd, tmp = tempfile.mkstemp(dir=mo.parent, prefix=".kiosk-", suffix=".mo")
    try:
        with os.fdopen(fd, "wb") as f:
            write_mo(f, catalog)
        os.replace(tmp, mo)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return mo


def _in_memory(lang: str) -> gettext.GNUTranslations:
    """The catalogue compiled into memory, for a read-only install where the .mo cannot be written."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po_path(lang).open("rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def _load(lang: str) -> gettext.NullTranslations:
    po, mo = po_path(lang), mo_path(lang)
    if not po.exists():
        log.warning("no %s catalogue at %s: English falls back to the texts in the code", lang, po)
        return gettext.NullTranslations()
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        try:
            compile_catalogue(lang)
        except OSError as e:
            log.info("cannot write %s (%s): compiling the catalogue in memory", mo, e)
            return _in_memory(lang)
    with mo.open("rb") as f:
        return gettext.GNUTranslations(f)


def catalogue(lang: str = "en") -> gettext.NullTranslations:
    """The loaded translations for ``lang`` (loaded once per process)."""
    with _lock:
        if lang not in _loaded:
            _loaded[lang] = _load(lang)
        return _loaded[lang]


def reload() -> None:
    """Forget the loaded catalogues (after ``kiosk i18n extract`` rewrote the .po)."""
    with _lock:
        _loaded.clear()


def known(zh: str) -> bool:
    """True when ``zh`` is a message of the English catalogue with a translation."""
    return bool(zh) and catalogue("en").gettext(zh) != zh


def translate(zh: str, lang: str) -> str:
    """``zh`` in ``lang``; a string the catalogue does not know comes back unchanged."""
    if not zh or normalise(lang) == "zh":
        return zh
    return catalogue(normalise(lang)).gettext(zh)


def english(zh: str, fallback: str = "") -> str:
    """The catalogue's English for ``zh``, else ``fallback`` (the English the code wrote beside it)."""
    if zh and known(zh):
        return translate(zh, "en")
    if has_cjk(fallback) and known(fallback):  # a caller put a catalogue string in the English slot
        return translate(fallback, "en")
    return fallback


#: a number and its Chinese unit -> English (values in tables and lines that come as data)
_UNITS = (
    (re.compile(r"^(\d+)个月$"), "{0} months"),
    (re.compile(r"^(\d{4})年(\d{1,2})月$"), "{0}-{1:0>2}"),
    (re.compile(r"^(\d{4})年$"), "{0}"),
    (re.compile(r"^(\d+(?:\.\d+)?)吨$"), "{0} t"),
    (re.compile(r"^(\d+(?:\.\d+)?)度$"), "{0} kWh"),
    (re.compile(r"^(\d+(?:\.\d+)?)立方米$"), "{0} m³"),
    (re.compile(r"^(\d+)笔$"), "{0}"),
)


def units_english(text: str) -> str:
    """``324个月`` -> ``324 months``, ``11吨`` -> ``11 t``; '' for anything else."""
    for pattern, english_form in _UNITS:
        m = pattern.match(text.strip()) if text else None
        if m:
            return english_form.format(*m.groups())
    return ""


def primary(zh: str, en: str, lang: str) -> str:
    """The big line of a bilingual label: the active language, Chinese where no English exists."""
    if normalise(lang) == "en":
        return english(zh, en) or units_english(zh) or zh
    return zh or en


def secondary(zh: str, en: str, lang: str) -> str:
    """The small line beneath: the other language, or nothing when there is no other text."""
    if normalise(lang) == "en":
        return zh if (english(zh, en) or units_english(zh)) else ""
    return english(zh, en) if zh else ""


def both(zh: str, en: str, lang: str, sep: str = "  ") -> str:
    """Both languages on one line, the active one first (notes, status words)."""
    first, second = primary(zh, en, lang), secondary(zh, en, lang)
    return first + sep + second if second else first


def say_in(zh: str, en: str, lang: str) -> tuple[str, str]:
    """What the voice says and in which language: English only where English exists."""
    if normalise(lang) == "en":
        text = english(zh, en)
        if text:
            return text, "en"
    return zh, "zh"
