"""Pydantic's validation errors in words a technician can act on.

The config, the service catalogue, the backend client, the outbox payload builders and the
simulated platform all validate with pydantic; they report through these three functions, so a
missing key, a typo or a value of the wrong type reads the same wherever it is found:
``location`` names where (``devices.printer.port``, ``items[0].guide``), ``describe`` says what
is wrong, ``fields`` lists the places only. None of them repeats a value the file or the request
did not hold, and ``fields`` repeats no value at all (a request may carry personal data).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from pydantic import ValidationError


def location(loc: tuple[Any, ...], *, skip: Collection[str] = (), top: str = "(top level)") -> str:
    """``("items", 0, "guide")`` -> ``items[0].guide``. Names in ``skip`` after the first part are
    left out: pydantic puts the member of a union it tried into the location, where the file
    has no such key."""
    parts: list[str] = []
    for p in loc:
        if isinstance(p, int):
            parts.append(f"[{p}]")
        elif p in skip and parts:
            continue
        else:
            parts.append(("." if parts else "") + str(p))
    return "".join(parts) or top


def describe(err: Mapping[str, Any], *, forms: Mapping[str, str] | None = None) -> str:
    """What is wrong, in one short phrase. ``forms`` says in words what a pattern asks for
    (``{r"^[0-9]{6}$": "six digits"}``); without it the pattern itself is named."""
    kind = str(err["type"])
    msg = str(err.get("msg", ""))
    ctx = err.get("ctx") or {}
    if kind in ("missing", "union_tag_not_found"):
        return "missing key"
    if kind == "extra_forbidden":
        return "unknown key (a typo?)"
    if kind == "union_tag_invalid":
        return f"unknown driver {ctx.get('tag')!r} (expected one of {ctx.get('expected_tags')})"
    if kind in ("literal_error", "enum"):
        return f"{err['input']!r} is not allowed ({msg.removeprefix('Input should be ')})"
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        form = (forms or {}).get(pattern)
        return f"{err['input']!r} is not {form}" if form else f"{err['input']!r} does not match {pattern}"
    if kind in ("string_too_short", "too_short") and ctx.get("min_length") == 1:
        return "must not be empty"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return f"wrong type: {msg.lower()}, got {err['input']!r}"
    return msg.removeprefix("Value error, ")


def fields(error: ValidationError, *, most: int | None = None, top: str = "(top level)") -> str:
    """The places that failed, ``a.b, c[2]``, without their values."""
    return ", ".join(location(err["loc"], top=top) for err in error.errors()[:most])
