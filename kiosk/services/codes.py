"""Code tables (代码表) and administrative divisions (行政区划): what application forms pick from.

A resident never types Chinese text on the terminal; every answer on a form that is not a number
is an entry of one of these tables, shown in both languages and stored by its code. They live in
``config/code_tables.toml`` and ``config/regions.toml`` and are checked when the catalogue loads;
every problem is reported as ``<file>: <key>: <what is wrong>``, as the config and the catalogue
report theirs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.config import read_toml
from kiosk.errors import ConfigError

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
TABLES_PATH = CONFIG_DIR / "code_tables.toml"
REGIONS_PATH = CONFIG_DIR / "regions.toml"
#: a region code's length says its level (GB/T 2260 and the 统计用区划代码 structure)
LEVELS = {2: "province", 4: "city", 6: "county", 9: "township", 12: "village"}


@dataclass(frozen=True)
class Entry:
    code: str
    zh: str
    en: str


@dataclass(frozen=True)
class Table:
    name: str
    name_zh: str
    name_en: str
    entries: tuple[Entry, ...]

    def get(self, code: str) -> Entry | None:
        return next((e for e in self.entries if e.code == code), None)


@dataclass(frozen=True)
class Region:
    code: str
    zh: str
    en: str
    parent: str

    @property
    def level(self) -> str:
        return LEVELS[len(_significant(self.code))]


def _significant(code: str) -> str:
    """``370900`` -> ``3709``: a province or city code padded with zeros to six digits."""
    if len(code) == 6:
        if code.endswith("0000"):
            return code[:2]
        if code.endswith("00"):
            return code[:4]
    return code


@dataclass(frozen=True)
class Codes:
    tables: dict[str, Table]
    regions: dict[str, Region]
    _children: dict[str, tuple[Region, ...]] = field(default_factory=dict, repr=False)

    def table(self, name: str) -> Table:
        try:
            return self.tables[name]
        except KeyError:
            raise KeyError(f"no code table {name!r}") from None

    def children(self, parent: str = "") -> tuple[Region, ...]:
        """The regions directly under ``parent`` ("" for the provinces), in file order."""
        return self._children.get(parent, ())

    def path(self, code: str) -> tuple[Region, ...]:
        """Province first, down to the region ``code``; () for an unknown code."""
        out: list[Region] = []
        region = self.regions.get(code)
        while region is not None:
            out.append(region)
            region = self.regions.get(region.parent)
        return tuple(reversed(out))

    def address(self, code: str, lang: str = "zh") -> str:
        """The region's full name: 山东省泰安市宁阳县葛石镇东庄村 (English: from the smallest up)."""
        parts = self.path(code)
        if lang == "en":
            return ", ".join(r.en for r in reversed(parts))
        return "".join(r.zh for r in parts)


def _entries(raw: Any, where: str, errors: list[str]) -> tuple[Entry, ...]:
    if not isinstance(raw, list) or not raw:
        errors.append(f"{where}: must be a non-empty array of {{ code, zh, en }}")
        return ()
    out: list[Entry] = []
    seen: set[str] = set()
    for i, e in enumerate(raw):
        spot = f"{where}[{i}]"
        if not isinstance(e, dict):
            errors.append(f"{spot}: must be a table {{ code, zh, en }}")
            continue
        unknown = set(e) - {"code", "zh", "en"}
        if unknown:
            errors.append(f"{spot}.{sorted(unknown)[0]}: unknown key (a typo?)")
        values = [e.get(k) for k in ("code", "zh", "en")]
        for key, value in zip(("code", "zh", "en"), values, strict=True):
            if not isinstance(value, str) or not value.strip():
                errors.append(f"{spot}.{key}: missing or empty (a string is needed)")
        if not all(isinstance(v, str) and v.strip() for v in values):
            continue
        if e["code"] in seen:
            errors.append(f"{spot}.code: {e['code']!r} is used twice in this table")
        seen.add(e["code"])
        out.append(Entry(e["code"], e["zh"], e["en"]))
    return tuple(out)


def parse_tables(raw: dict[str, Any], path: Path) -> tuple[dict[str, Table], list[str]]:
    errors = [f"{path}: {key}: unknown key (a typo?)" for key in raw if key != "tables"]
    tables: dict[str, Table] = {}
    given = raw.get("tables")
    if not isinstance(given, dict) or not given:
        return tables, errors + [f"{path}: tables: missing (add [tables.<name>] sections)"]
    for name, body in given.items():
        where = f"{path}: tables.{name}"
        if not isinstance(body, dict):
            errors.append(f"{where}: must be a table")
            continue
        for key in set(body) - {"name_zh", "name_en", "entries"}:
            errors.append(f"{where}.{key}: unknown key (a typo?)")
        for key in ("name_zh", "name_en"):
            if not isinstance(body.get(key), str) or not body[key].strip():
                errors.append(f"{where}.{key}: missing or empty")
        entries = _entries(body.get("entries"), f"{where}.entries", errors)
        tables[name] = Table(name, str(body.get("name_zh", "")), str(body.get("name_en", "")), entries)
    return tables, errors


def parse_regions(raw: dict[str, Any], path: Path) -> tuple[dict[str, Region], list[str]]:
    errors = [f"{path}: {key}: unknown key (a typo?)" for key in raw if key != "regions"]
    given = raw.get("regions")
    if not isinstance(given, list) or not given:
        return {}, errors + [f"{path}: regions: missing (a non-empty array of {{ code, zh, en, parent }})"]
    regions: dict[str, Region] = {}
    for i, r in enumerate(given):
        spot = f"{path}: regions[{i}]"
        if not isinstance(r, dict):
            errors.append(f"{spot}: must be a table {{ code, zh, en, parent }}")
            continue
        for key in set(r) - {"code", "zh", "en", "parent"}:
            errors.append(f"{spot}.{key}: unknown key (a typo?)")
        code, zh, en, parent = (r.get(k) for k in ("code", "zh", "en", "parent"))
        if not all(isinstance(v, str) for v in (code, zh, en, parent)) or not (code and zh and en):
            errors.append(f"{spot}: code, zh, en and parent must all be strings (parent may be empty)")
            continue
        if not code.isdigit() or len(_significant(code)) not in LEVELS:
            errors.append(f"{spot}.code: {code!r} is not a region code (6, 9 or 12 digits)")
            continue
        if code in regions:
            errors.append(f"{spot}.code: {code!r} is listed twice")
            continue
        regions[code] = Region(code, str(zh), str(en), str(parent))
    for region in regions.values():
        spot = f"{path}: regions[{region.code}]"
        if not region.parent:
            if region.level != "province":
                errors.append(f"{spot}.parent: missing (only a province has none)")
            continue
        parent = regions.get(region.parent)
        if parent is None:
            errors.append(f"{spot}.parent: {region.parent!r} is not in the file")
        elif not region.code.startswith(_significant(parent.code)):
            errors.append(f"{spot}.code: does not lie inside its parent {parent.code} ({parent.zh})")
        elif list(LEVELS.values()).index(region.level) != list(LEVELS.values()).index(parent.level) + 1:
            errors.append(f"{spot}.parent: a {region.level} must sit directly under a "
                          f"{list(LEVELS.values())[list(LEVELS.values()).index(region.level) - 1]}")
    return regions, errors


def load_codes(tables_path: Path | None = None, regions_path: Path | None = None) -> Codes:
    """Read and check both files; raise ``ConfigError`` listing every problem found."""
    tables_path = Path(tables_path) if tables_path is not None else TABLES_PATH
    regions_path = Path(regions_path) if regions_path is not None else REGIONS_PATH
    tables, errors = parse_tables(read_toml(tables_path), tables_path)
    regions, region_errors = parse_regions(read_toml(regions_path), regions_path)
    errors += region_errors
    if errors:
        raise ConfigError("\n".join(errors))
    children: dict[str, list[Region]] = {}
    for region in regions.values():
        children.setdefault(region.parent, []).append(region)
    return Codes(tables, regions, {k: tuple(v) for k, v in children.items()})
