"""``kiosk i18n extract|check``: find every screen string and keep the English catalogue complete.

Extraction runs through babel (``extract_from_dir`` with two extraction methods of our own):

* kv files and the Kivy layer (``app.py``, ``screens/``, ``widgets/``): every Chinese string
  literal is a screen string;
* the rest of the package: Chinese strings that stand in a zh/en pair (``message_zh`` /
  ``message_en``, ``zh=`` / ``en=``, ``label_zh`` / ``label_en`` ...), because elsewhere Chinese
  literals are often data (parsing, receipts) rather than something a screen shows.

Wherever the code already writes the English beside the Chinese (keyword pairs, sibling
``*_zh`` / ``*_en`` names, a Chinese literal followed by a Latin one in a tuple or call, both
branches of a conditional) that English becomes the translation, so new strings arrive
translated. ``extract`` merges into the .po and keeps every translation already there;
``check`` exits 1 naming the strings that are missing or untranslated.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kiosk import __version__
from kiosk.i18n import DOMAIN, has_cjk, po_path

PACKAGE_DIR = Path(__file__).resolve().parent.parent
EN_TAG = "en: "  # the extracted comment that carries the English written in the code

#: first match wins; paths are relative to the package folder
METHOD_MAP = [
    ("sim/backend/**", "ignore"),  # the simulated government platform's data
    ("gateway/**", "ignore"),  # the gateway: its answers carry both languages, its console has its own
    ("commands/**", "ignore"),  # technicians' command-line output
    ("sim/demo_data.py", "ignore"),
    ("tours/**", "ignore"),
    ("app.py", "kiosk.commands.i18n:extract_python"),
    ("screens/**.py", "kiosk.commands.i18n:extract_python"),
    ("widgets/**.py", "kiosk.commands.i18n:extract_python"),
    ("sim/panel.py", "kiosk.commands.i18n:extract_python"),
    ("**.py", "kiosk.commands.i18n:extract_python"),
    ("**.kv", "kiosk.commands.i18n:extract_kv"),
]
UI_PATTERNS = ("app.py", "screens/**.py", "widgets/**.py", "sim/panel.py")
OPTIONS_MAP = {pattern: {"all_literals": "true"} for pattern in UI_PATTERNS}

_LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical"}


def _text(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _pair_key(name: str) -> tuple[str, str] | None:
    """``message_zh`` -> (``message``, ``zh``); ``zh`` -> (``""``, ``zh``); else None."""
    low = name.lower()
    if low in ("zh", "en"):
        return "", low
    if low.endswith(("_zh", "_en")):
        return low[:-3], low[-2:]
    return None


@dataclass
class Found:
    lineno: int
    zh: str
    en: str = ""


class StringFinder:
    """Collects Chinese strings from Python syntax trees, with the English paired to them."""

    def __init__(self, all_literals: bool) -> None:
        self.all_literals = all_literals
        self.found: list[Found] = []
        self._skip: set[int] = set()  # ids of constants that are not screen text

    # --- pairing ----------------------------------------------------------------------------

    def pair(self, zh: ast.AST | None, en: ast.AST | None, lineno: int = 0) -> int:
        """Align two expressions of the same shape; returns how many pairs it found."""
        if zh is None or en is None:
            return 0
        a, b = _text(zh), _text(en)
        if a is not None and b is not None:
            if has_cjk(a) and b and not has_cjk(b):
                self.found.append(Found(getattr(zh, "lineno", lineno), a, b))
                return 1
            return 0
        if isinstance(zh, ast.Dict) and isinstance(en, ast.Dict):
            en_by_key = {ast.dump(k): v for k, v in zip(en.keys, en.values, strict=True) if k is not None}
            return sum(self.pair(v, en_by_key.get(ast.dump(k))) for k, v in zip(zh.keys, zh.values, strict=True)
                       if k is not None)
        if isinstance(zh, ast.Tuple | ast.List) and isinstance(en, ast.Tuple | ast.List) and len(zh.elts) == len(en.elts):
            return sum(self.pair(x, y) for x, y in zip(zh.elts, en.elts, strict=True))
        if isinstance(zh, ast.IfExp) and isinstance(en, ast.IfExp):
            return self.pair(zh.body, en.body) + self.pair(zh.orelse, en.orelse)
        if isinstance(zh, ast.BinOp) and isinstance(en, ast.BinOp):
            return self.pair(zh.left, en.left) + self.pair(zh.right, en.right)
        if isinstance(zh, ast.BoolOp) and isinstance(en, ast.BoolOp) and len(zh.values) == len(en.values):
            return sum(self.pair(x, y) for x, y in zip(zh.values, en.values, strict=True))
        return 0

    def pair_in_order(self, zh: ast.AST, en: ast.AST) -> int:
        """Fallback for differently shaped expressions: the n-th Chinese literal with the n-th English one."""
        zhs = [n for n in ast.walk(zh) if (t := _text(n)) and has_cjk(t) and id(n) not in self._skip]
        ens = [n for n in ast.walk(en) if (t := _text(n)) and not has_cjk(t) and t.strip() and id(n) not in self._skip]
        if zhs and len(zhs) == len(ens):
            return sum(self.pair(x, y) for x, y in zip(zhs, ens, strict=True))
        return 0

    def pair_named(self, named: dict[str, tuple[str, ast.AST]]) -> None:
        """Siblings named ``x_zh`` / ``x_en`` (keywords of one call, names in one scope)."""
        for stem, (lang, node) in list(named.items()):
            if lang != "zh":
                continue
            en = named.get(stem + "\0en")
            if en is None or not (self.pair(node, en[1]) or self.pair_in_order(node, en[1])):
                # a named Chinese text without English beside it is still a screen string
                self.loose(node)

    def loose(self, node: ast.AST) -> None:
        for n in ast.walk(node):
            text = _text(n)
            if text and has_cjk(text) and id(n) not in self._skip:
                self.found.append(Found(getattr(n, "lineno", 0), text))

    # --- walking ----------------------------------------------------------------------------

    def run(self, tree: ast.AST) -> list[Found]:
        self._mark_skipped(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                self._scope(node.body)
            if isinstance(node, ast.Call):
                self._call(node)
            if isinstance(node, ast.Tuple | ast.List):
                self._sequence(node.elts)
        if self.all_literals:
            for node in ast.walk(tree):
                text = _text(node)
                if text and has_cjk(text) and id(node) not in self._skip:
                    self.found.append(Found(node.lineno, text))
        return self.found

    def _mark_skipped(self, tree: ast.AST) -> None:
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and _text(body[0].value):
                self._skip.add(id(body[0].value))  # docstrings
            if isinstance(node, ast.JoinedStr):  # f-strings are assembled at run time
                self._skip.update(id(n) for n in ast.walk(node))
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in _LOG_METHODS and isinstance(node.func.value, ast.Name)
                    and node.func.value.id in ("log", "logger", "logging")):
                self._skip.update(id(n) for n in ast.walk(node))

    def _scope(self, body: list[ast.stmt]) -> None:
        named: dict[str, tuple[str, ast.AST]] = {}
        for stmt in body:
            target, value = None, None
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                target, value = stmt.targets[0].id, stmt.value
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
                target, value = stmt.target.id, stmt.value
            elif isinstance(stmt, ast.FunctionDef):
                returns = [n for n in ast.walk(stmt) if isinstance(n, ast.Return) and n.value is not None]
                if len(returns) == 1:
                    target, value = stmt.name, returns[0].value
            key = _pair_key(target) if target else None
            if key is not None and value is not None:
                named[key[0] + "\0" + key[1] if key[1] == "en" else key[0]] = (key[1], value)
        self.pair_named(named)

    def _call(self, call: ast.Call) -> None:
        named: dict[str, tuple[str, ast.AST]] = {}
        for kw in call.keywords:
            key = _pair_key(kw.arg) if kw.arg else None
            if key is not None:
                named[key[0] + "\0" + key[1] if key[1] == "en" else key[0]] = (key[1], kw.value)
        self.pair_named(named)
        self._sequence(call.args)

    def _sequence(self, elts: list[ast.expr]) -> None:
        """A Chinese literal directly followed by a Latin one: ``("返回", "Back")``, ``say("…", "…")``."""
        for zh, en in zip(elts, elts[1:], strict=False):
            if _text(zh) is not None and _text(en) is not None:  # neighbours, not rows of a table
                self.pair(zh, en)


# --- babel extraction methods -----------------------------------------------------------------


def _results(found: list[Found]) -> Iterator[tuple[int, None, str, list[str]]]:
    for f in found:
        yield f.lineno, None, f.zh, [EN_TAG + f.en] if f.en else []


def extract_python(fileobj, keywords, comment_tags, options) -> Iterator[tuple[int, None, str, list[str]]]:
    """Babel extraction method for Python modules (see the module docstring)."""
    tree = ast.parse(fileobj.read().decode("utf-8"))
    yield from _results(StringFinder(options.get("all_literals") == "true").run(tree))


_KV_LINE = re.compile(r"^(\s*)([A-Za-z_][\w.]*)\s*:\s*(.*)$")


def _kv_expression(value: str) -> ast.AST | None:
    for mode in ("eval", "exec"):
        try:
            return ast.parse(value.strip(), mode=mode)
        except SyntaxError:
            continue
    return None


def extract_kv(fileobj, keywords, comment_tags, options) -> Iterator[tuple[int, None, str, list[str]]]:
    """Babel extraction method for kv files: property values are Python expressions.

    ``zh:`` / ``x_zh:`` are paired with the ``en:`` / ``x_en:`` of the same widget, branch by
    branch; every other Chinese literal in a value (a dict of status words, a handler's
    ``app.say("…", "…")``) is found the same way as in a Python module of the Kivy layer.
    """
    found: list[Found] = []
    parents: list[tuple[int, int]] = []  # (indent, line) of the open blocks
    widgets: dict[int, dict[str, tuple[str, ast.AST]]] = {}
    for lineno, raw in enumerate(fileobj.read().decode("utf-8").splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        m = _KV_LINE.match(raw)
        indent = len(raw) - len(raw.lstrip())
        while parents and parents[-1][0] >= indent:
            parents.pop()
        if m is None or not m.group(3).strip():
            parents.append((indent, lineno))
            continue
        tree = _kv_expression(m.group(3))
        if tree is None:
            continue
        for node in ast.walk(tree):  # kv line numbers, not the expression's own
            if hasattr(node, "lineno"):
                node.lineno = lineno
        finder = StringFinder(all_literals=True)
        key = _pair_key(m.group(2))
        if key is not None:
            body = tree.body if isinstance(tree, ast.Expression) else tree
            slot = key[0] + "\0" + key[1] if key[1] == "en" else key[0]
            widgets.setdefault(parents[-1][1] if parents else 0, {})[slot] = (key[1], body)
            if key[1] == "en":
                continue  # English, paired below with its Chinese
        found.extend(finder.run(tree))
    for named in widgets.values():
        finder = StringFinder(all_literals=False)
        for stem, (lang, zh) in named.items():
            en = named.get(stem + "\0en")
            if lang == "zh" and en is not None and not finder.pair(zh, en[1]):
                finder.pair_in_order(zh, en[1])
        found.extend(finder.found)
    yield from _results(found)


# --- the catalogue ----------------------------------------------------------------------------


def extract(package_dir: Path = PACKAGE_DIR):
    """Every screen string of the package: a babel Catalog whose translations are the code's English."""
    from babel.messages.extract import extract_from_dir

    catalog = new_catalogue()
    for filename, lineno, message, comments, _context in extract_from_dir(
        str(package_dir), METHOD_MAP, OPTIONS_MAP
    ):
        en = next((c[len(EN_TAG):] for c in comments if c.startswith(EN_TAG)), "")
        existing = catalog.get(message)
        location = (f"kiosk/{filename}", lineno)
        if existing is None:
            catalog.add(message, en, locations=[location])
        else:
            existing.locations.append(location)
            if en and not existing.string:
                existing.string = en
    return catalog


def new_catalogue():
    from babel.messages.catalog import Catalog

    return Catalog(locale="en", domain=DOMAIN, project="kiosk", version=__version__, charset="utf-8",
                   copyright_holder="the kiosk authors", msgid_bugs_address="",
                   last_translator="the kiosk authors", language_team="English", fuzzy=False)


def read_catalogue(path: Path | None = None):
    from babel.messages.pofile import read_po

    path = path or po_path("en")
    if not path.exists():
        return new_catalogue()
    with path.open("rb") as f:
        return read_po(f, locale="en", domain=DOMAIN)


def merge(existing, extracted):
    """The .po after extraction: every extracted string, existing translations kept, new ones filled."""
    created = existing.creation_date  # keep the header stable: only real changes show in a diff
    existing.update(extracted, no_fuzzy_matching=True, update_header_comment=False)
    existing.creation_date = created
    for message in existing:
        if message.id and not message.string:
            source = extracted.get(message.id)
            if source is not None and source.string:
                message.string = source.string
    existing.obsolete.clear()  # strings the code no longer has
    return existing


def write_catalogue(catalog, path: Path | None = None) -> Path:
    from babel.messages.pofile import write_po

    path = path or po_path("en")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        write_po(f, catalog, width=100, sort_output=True, include_lineno=False, ignore_obsolete=True)
    return path


def problems(extracted, catalog) -> dict[str, list[str]]:
    """What ``check`` fails on: screen strings missing from the catalogue or without English."""
    missing = sorted(m.id for m in extracted if m.id and catalog.get(m.id) is None)
    empty = sorted(m.id for m in extracted if m.id and (c := catalog.get(m.id)) is not None and not c.string)
    return {"missing": missing, "untranslated": empty}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("i18n", help="extract screen strings into the English catalogue, or check it")
    p.add_argument("action", choices=["extract", "check"],
                   help="extract: merge new strings into the .po; check: exit 1 if any is missing or untranslated")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    extracted = extract()
    catalog = read_catalogue()
    if args.action == "extract":
        before = {m.id for m in catalog if m.id}
        path = write_catalogue(merge(catalog, extracted))
        added = sorted(m.id for m in extracted if m.id and m.id not in before)
        print(f"{len(extracted)} screen strings, {len(added)} new, written to {path}")
        for zh in added:
            print(f"  + {zh}")
    found = problems(extracted, read_catalogue())
    for kind, texts in found.items():
        for zh in texts:
            print(f"{kind}: {zh}")
    if any(found.values()):
        print(f"catalogue incomplete: edit {po_path('en')} (msgstr is the English)", file=sys.stderr)
        return 1
    if args.action == "check":
        print(f"catalogue complete: {len(extracted)} screen strings translated")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="kiosk i18n")
    register(parser.add_subparsers(dest="command", required=True))
    parsed = parser.parse_args(["i18n", *sys.argv[1:]])
    sys.exit(parsed.func(parsed))
