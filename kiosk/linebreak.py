"""Where a printed line may break: the same rule on A4 paper and on the receipt roll.

Chinese may break between any two characters. A run of Latin letters and digits (a
transaction number, a verification code, an amount, an address) breaks only after a
separator, never inside a group of digits: a clerk who copies ``NY-370921-0001-2026…`` from
two lines must not have to guess where a digit went. Only a run wider than a whole line on
its own is cut where it must.
"""

from __future__ import annotations

from collections.abc import Callable

#: break opportunities in a Latin run, best first: between a URL's parts or words, then
#: between the groups of a number written with dashes
BREAK_AFTER = ("/?& ", "-_=")
#: characters that hold a run together: ``￥1,234.56``, ``17:45:02``, ``370***********2819``
_JOINERS = ",.:*+%#￥"


def joins(ch: str) -> bool:
    """True for a character that is part of a Latin run (no break on either side of it)."""
    return (ch.isascii() and ch.isalnum()) or ch in _JOINERS


def _rank(before: str, after: str) -> int:
    """How good a break between ``before`` and ``after`` is: 0 best ... 2 if need be, 3 never."""
    if before == " " or after == " " or before in BREAK_AFTER[0]:
        return 0  # between words, or between a URL's parts
    if before in BREAK_AFTER[1]:
        return 2  # between the groups of a number
    if (before.isascii() or joins(before)) and (after.isascii() or joins(after)):
        return 3  # inside a run of Latin text: a number, a code, a word
    return 1  # beside a Chinese character


def break_point(line: str, after: str) -> int:
    """Where to cut ``line`` when the character ``after`` does not fit behind it.

    The best kind of break that still leaves the line at least half full wins (between
    words, then beside a Chinese character, then between number groups), at its last place;
    with none, the line is cut where it is full.
    """
    last: dict[int, int] = {}
    for i in range(1, len(line) + 1):
        rank = _rank(line[i - 1], line[i] if i < len(line) else after)
        if rank < 3:
            last[rank] = i
    for rank in sorted(last):
        if last[rank] * 2 >= len(line):
            return last[rank]
    return max(last.values(), default=len(line))


def wrap(text: str, fits: Callable[[str], bool]) -> list[str]:
    """Break ``text`` into lines for which ``fits(line)`` holds (a line holds at least one character)."""
    lines: list[str] = []
    current = ""
    for ch in text:
        if current and not fits(current + ch):
            cut = break_point(current, ch)
            lines.append(current[:cut].rstrip() or current[:cut])
            current = (current[cut:] + ch).lstrip()
        else:
            current += ch
    lines.append(current)
    return lines
