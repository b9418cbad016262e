"""The service catalogue (事项目录): every item the terminal runs or explains, with its 一次性告知.

The items live in ``config/services.toml`` so that a county can add or reword an item without
touching code. The file is checked once at start-up and every problem is reported as
``<file>: items[<id>].<key>: <what is wrong>`` (an item without a usable id is named by its
position, ``items[#3]``), in the same style as ``kiosk/config.py``.

An item is either ``self_service`` (a journey flow runs it on this terminal) or ``guide`` (the
terminal only tells the resident, once and completely, where and how to do it). Both carry a
full guide: a resident about to pay or print sees the same 一次性告知 as one sent to a window.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Collection, Iterable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StringConstraints,
    ValidationError,
)

import kiosk
from kiosk.config import read_toml
from kiosk.errors import ConfigError
from kiosk.services.application_spec import ApplicationSpec, spec_problems
from kiosk.validation import describe, location

log = logging.getLogger(__name__)

DEFAULT_PATH = Path(kiosk.__file__).resolve().parent.parent / "config" / "services.toml"
#: an item id: stable across releases, it keys the journal and the backend's records
ID_PATTERN = r"^[a-z][a-z0-9_]*$"


class Category(StrEnum):
    """Where an item sits on the home screen. Definition order is display order."""

    SOCIAL_SECURITY = "social_security"
    MEDICAL = "medical"
    PAYMENT = "payment"
    CIVIL_AFFAIRS = "civil_affairs"
    EMPLOYMENT = "employment"
    CERTIFICATE = "certificate"
    OTHER = "other"

    @property
    def label_zh(self) -> str:
        return CATEGORY_LABELS[self][0]

    @property
    def label_en(self) -> str:
        return CATEGORY_LABELS[self][1]

    @property
    def order(self) -> int:
        return _CATEGORY_ORDER[self]

    @classmethod
    def from_label(cls, label: str) -> Category:
        """The category for a key or a Chinese label (``service_points.items`` uses labels)."""
        for category in cls:
            if label in (category.value, category.label_zh):
                return category
        raise ValueError(f"unknown category {label!r}")


#: the one place the Chinese and English labels are written
CATEGORY_LABELS: dict[Category, tuple[str, str]] = {
    Category.SOCIAL_SECURITY: ("社保", "Social security"),
    Category.MEDICAL: ("医保", "Medical"),
    Category.PAYMENT: ("缴费", "Payments"),
    Category.CIVIL_AFFAIRS: ("民政", "Civil affairs"),
    Category.EMPLOYMENT: ("就业", "Employment"),
    Category.CERTIFICATE: ("证明打印", "Certificates"),
    Category.OTHER: ("其他", "Other"),
}
_CATEGORY_ORDER = {c: i for i, c in enumerate(Category)}

Kind = Literal["self_service", "guide"]
Identification = Literal["idcard", "sscard", "keyed", "scan"]
DeviceName = Literal["idcard", "sscard", "printer", "ratingpad", "scanner", "camera"]
#: a way to identify -> the device it needs ("keyed" needs none); "scan": a 电子社保卡 or
#: 电子身份证 QR code on the resident's phone, shown to the scanner
IDENTIFY_DEVICES: dict[str, str] = {"idcard": "idcard", "sscard": "sscard", "scan": "scanner"}
FlowName = Literal[
    "contribution_certificate",
    "rights_record",
    "benefit_certificate",
    "medical_certificate",
    "medical_settlement",
    "medical_account",
    "insurance_query",
    "contribution_history",
    "resident_pension_query",
    "utility_payment",
    "resident_pension_payment",
    "resident_medical_payment",
    "flexible_pension_payment",
    "card_loss",
    "card_status",
    "card_pin_change",
    "help_request",
    "service_map",
    "application",
    "application_progress",
]
UTILITIES = ("water", "electricity", "gas")

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

#: the 一次性告知 sections in the order a resident reads them: (field, zh label, en label)
GUIDE_SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("conditions", "申请条件", "Who can apply"),
    ("materials", "申请材料", "What to bring"),
    ("process", "办理流程", "Steps"),
    ("time_limit", "办理时限", "Time limit"),
    ("fees", "收费标准", "Fees"),
    ("location", "办理地点", "Where"),
    ("contact", "联系方式", "Contact"),
    ("basis", "法定依据", "Legal basis"),
)


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Guide(_Frozen):
    """一次性告知: everything a resident needs to get the item done in one visit."""

    basis: Text
    conditions: Text
    materials: Annotated[tuple[Text, ...], Field(min_length=1)]
    process: Annotated[tuple[Text, ...], Field(min_length=1)]
    time_limit: Text
    fees: Text
    contact: Text
    location: Text
    conditions_en: Text
    location_en: Text
    materials_en: tuple[Text, ...] = ()
    process_en: tuple[Text, ...] = ()
    time_limit_en: str = ""
    fees_en: str = ""

    def sections(self, lang: str = "zh") -> tuple[tuple[str, str, str | tuple[str, ...]], ...]:
        """``(field, label, value)`` in reading order; English falls back to Chinese text."""
        out = []
        for name, label_zh, label_en in GUIDE_SECTIONS:
            value = getattr(self, name)
            if lang == "en":
                value = getattr(self, f"{name}_en", None) or value
            out.append((name, label_en if lang == "en" else label_zh, value))
        return tuple(out)


class ServiceItem(_Frozen):
    """One item of the catalogue. ``id`` is stable: it is stored in journals and ratings."""

    id: Annotated[str, Field(pattern=ID_PATTERN, max_length=48)]
    name_zh: Text
    name_en: Text
    category: Category
    kind: Kind
    #: accepted identification, any one is enough; empty: none needed
    identify: tuple[Identification, ...] = ()
    #: devices every run needs, all of them (identification devices are implied by identify)
    devices: tuple[DeviceName, ...] = ()
    online: StrictBool = False  # a quoted "yes" in the file is a mistake, not True
    flow: FlowName | None = None
    params: dict[str, str | int | bool] = {}
    tags: tuple[Text, ...] = ()
    keywords: tuple[Text, ...] = ()
    #: where the item comes from: seed file and list, for docs/catalogue.md
    source: tuple[Text, ...] = ()
    guide: Guide
    #: what an ``application`` item asks for: form, materials, 承诺 (kiosk.services.application_spec)
    application: ApplicationSpec | None = None

    def __hash__(self) -> int:
        # params is a dict, which pydantic's field hash would choke on; the id is unique anyway
        return hash(self.id)

    @property
    def is_self_service(self) -> bool:
        return self.kind == "self_service"

    @property
    def category_zh(self) -> str:
        return self.category.label_zh

    def blockers(self, devices_up: Collection[str], backend_up: bool = True) -> tuple[str, ...]:
        """What stops the item running now: device names and/or ``"backend"``; empty: it can run.

        A guide is never blocked. Identification blocks only when no accepted way is left
        (``keyed`` needs no device), so one broken reader does not close an item.
        """
        if not self.is_self_service:
            return ()
        missing: list[str] = [d for d in self.devices if d not in devices_up]
        if self.identify and "keyed" not in self.identify:
            needed = [IDENTIFY_DEVICES[way] for way in self.identify]
            if not any(device in devices_up for device in needed):
                missing.extend(d for d in needed if d not in missing)
        if self.online and not backend_up:
            missing.append("backend")
        return tuple(missing)


class Catalogue(_Frozen):
    """All items in file order, with lookups for the home screen and the pick-list search."""

    items: tuple[ServiceItem, ...]
    source: Path | None = None
    #: the code tables the application items pick from (``kiosk.services.codes.Codes``)
    codes: Any = None
    _index: dict[str, ServiceItem] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        self._index = {item.id: item for item in self.items}

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._index

    def by_id(self, item_id: str) -> ServiceItem:
        try:
            return self._index[item_id]
        except KeyError:
            raise KeyError(f"no service item {item_id!r} in the catalogue") from None

    def by_category(self) -> dict[Category, tuple[ServiceItem, ...]]:
        """Non-empty categories in display order, each with its items in file order."""
        grouped: dict[Category, list[ServiceItem]] = {c: [] for c in Category}
        for item in self.items:
            grouped[item.category].append(item)
        return {c: tuple(items) for c, items in grouped.items() if items}

    def hot(self, ids: Iterable[str]) -> tuple[ServiceItem, ...]:
        """The 常用 items, in the order given; ids the catalogue does not have are left out
        (and logged), so a config written for another catalogue still shows a home screen."""
        known = {item.id: item for item in self.items}
        missing = [i for i in ids if i not in known]
        if missing:
            log.warning("hot items not in the catalogue, left out: %s", ", ".join(missing))
        return tuple(known[i] for i in ids if i in known)

    def self_service(self) -> tuple[ServiceItem, ...]:
        return tuple(item for item in self.items if item.is_self_service)

    def search(self, keyword: str) -> tuple[ServiceItem, ...]:
        """Items matching a keyword (Chinese, English or pinyin initials), best first.

        Exact and leading matches on the Chinese name or a keyword come first, then the
        Chinese name anywhere, then tags and keywords, then English name and category. An
        empty keyword lists everything.
        """
        needle = _fold(keyword)
        if not needle:
            return self.items
        phrase = " ".join(
            unicodedata.normalize("NFKC", keyword).casefold().replace("-", " ").split()
        )
        ranked = []
        for position, item in enumerate(self.items):
            rank = _rank(item, needle, phrase)
            if rank is not None:
                ranked.append((rank, position, item))
        ranked.sort(key=lambda r: (r[0], r[1]))
        return tuple(item for _, _, item in ranked)


def _fold(text: str) -> str:
    # NFKC: full-width letters from an on-screen keyboard match ASCII keywords
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def _rank(item: ServiceItem, needle: str, phrase: str) -> int | None:
    name = _fold(item.name_zh)
    words = [_fold(w) for w in (*item.keywords, *item.tags)]
    if name.startswith(needle) or needle in words:
        return 0
    if needle in name:
        return 1
    # Latin text (pinyin initials, English) matches from the start of a keyword or a word
    # only, so "sf" finds 水费 (sfjn) and not "transfer"; Chinese matches anywhere in it
    latin = needle.isascii()
    if any(w.startswith(needle) if latin else needle in w for w in words):
        return 2
    if _fold(item.name_en).startswith(needle):
        return 2
    if _starts_a_word(phrase, item.name_en) or needle in _fold(item.category.label_zh):
        return 3
    if _starts_a_word(phrase, item.category.label_en):
        return 3
    return None


def _starts_a_word(phrase: str, text: str) -> bool:
    return (" " + phrase) in " " + _words(text)


def _words(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().replace("-", " ").split())


# --- loading ---------------------------------------------------------------------------------


#: what the item id's pattern asks for, in words
_FORMS = {ID_PATTERN: "a stable id: use lower-case ASCII letters, digits and _"}
#: pydantic names the union member of ``params`` it tried in the location; the file has no such key
_PARAM_TYPES = ("str", "int", "bool")


def _rules(item: ServiceItem) -> list[tuple[str, str]]:
    """Checks across keys that a per-field type cannot express: ``(key, what)`` pairs."""
    problems: list[tuple[str, str]] = []
    if item.is_self_service:
        if item.flow is None:
            problems.append(
                ("flow", "missing key: a self_service item needs the flow that runs it")
            )
        for key in ("identify", "devices", "online"):
            if key not in item.model_fields_set:
                problems.append((key, "missing key (self_service items say it explicitly)"))
    else:
        if item.flow is not None:
            problems.append(
                ("flow", "only self_service items run a flow: remove it or change kind")
            )
        for key in ("identify", "devices"):
            if getattr(item, key):
                problems.append((key, "a guide runs nothing on the terminal: leave it empty"))
    for key in ("identify", "devices"):
        values = getattr(item, key)
        if len(set(values)) != len(values):
            problems.append((key, "lists a value twice"))
    for key in ("materials", "process"):
        english, chinese = getattr(item.guide, f"{key}_en"), getattr(item.guide, key)
        if english and len(english) != len(chinese):
            # the English screen shows these instead of the Chinese ones: nothing may go missing
            problems.append(
                (f"guide.{key}_en", f"has {len(english)} entries, guide.{key} has {len(chinese)}")
            )
    if item.flow == "application" and item.application is None:
        problems.append(("application", "missing: an application item needs its [items.application] table"))
    if item.application is not None and item.flow != "application":
        problems.append(("application", "only items with flow = \"application\" take applications"))
    if "ratingpad" in item.devices:
        problems.append(("devices", "the rating pad is never required: the screen can always rate"))
    if item.flow == "utility_payment" and item.params.get("utility") not in UTILITIES:
        problems.append(
            (
                "params.utility",
                f"{item.params.get('utility')!r} is not allowed (expected one of {UTILITIES})",
            )
        )
    return problems


def parse_catalogue(raw: dict[str, Any], path: Path, codes: Any = None) -> Catalogue:
    """Validate already-parsed TOML; raise ``ConfigError`` listing every problem found.
    Application items are checked against ``codes`` (``kiosk.services.codes.Codes``; the
    shipped code tables when None)."""
    errors: list[str] = [f"{path}: {key}: unknown key (a typo?)" for key in raw if key != "items"]
    entries = raw.get("items")
    if entries is None:
        raise ConfigError(f"{path}: items: missing key (add [[items]] tables)")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigError(f"{path}: items: must be an array of tables ([[items]])")
    items: list[ServiceItem] = []
    first_seen: dict[str, int] = {}
    for number, entry in enumerate(entries, start=1):
        raw_id = entry.get("id")
        label = f"items[{raw_id}]" if isinstance(raw_id, str) and raw_id else f"items[#{number}]"
        if isinstance(raw_id, str) and raw_id:
            if raw_id in first_seen:
                errors.append(
                    f"{path}: {label}.id: duplicate id (entries #{first_seen[raw_id]} and #{number}); "
                    "ids are stable, give the new item a new one"
                )
            else:
                first_seen[raw_id] = number
        try:
            item = ServiceItem.model_validate(entry)
        except ValidationError as e:
            errors.extend(
                f"{path}: {label}.{location(err['loc'], skip=_PARAM_TYPES, top='(item)')}: "
                f"{describe(err, forms=_FORMS)}"
                for err in e.errors()
            )
            continue
        errors.extend(f"{path}: {label}.{key}: {what}" for key, what in _rules(item))
        if item.application is not None:
            if codes is None:
                from kiosk.services.codes import load_codes

                codes = load_codes()
            errors.extend(f"{path}: {label}.{key}: {what}"
                          for key, what in spec_problems(item.application, codes.tables, item.devices))
        items.append(item)
    if errors:
        raise ConfigError("\n".join(errors))
    return Catalogue(items=tuple(items), source=path.resolve(), codes=codes)


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Read and check the catalogue (default: ``config/services.toml`` beside ``kiosk.toml``)."""
    from kiosk.services.codes import load_codes

    path = Path(path) if path is not None else DEFAULT_PATH
    tables, regions = path.parent / "code_tables.toml", path.parent / "regions.toml"
    # a county's own code tables beside its catalogue; the shipped ones otherwise
    codes = load_codes(tables, regions) if tables.exists() and regions.exists() else load_codes()
    return parse_catalogue(read_toml(path), path, codes)
