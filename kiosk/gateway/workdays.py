"""Working days for the 差评 follow-up deadline (整改 within 15 working days).

A working day is Monday to Friday, less the public holidays, plus the weekend days worked in
their place (调休). The dates come from the State Council's notice published each December;
``holidays.toml`` beside this file holds them, and a county adds the next year's when the
notice is out. A year missing from the file counts weekdays only (``covered`` tells).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from functools import lru_cache
from pathlib import Path

HOLIDAYS_FILE = Path(__file__).with_name("holidays.toml")
FOLLOW_UP_WORKING_DAYS = 15


@lru_cache(maxsize=4)
def calendar(path: Path = HOLIDAYS_FILE) -> tuple[frozenset[dt.date], frozenset[dt.date], frozenset[int]]:
    """(holidays, weekend days worked, years covered) from the calendar file."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    off: set[dt.date] = set()
    on: set[dt.date] = set()
    years: set[int] = set()
    for year, entry in data.items():
        years.add(int(year))
        off |= {dt.date.fromisoformat(d) for d in entry.get("off", [])}
        on |= {dt.date.fromisoformat(d) for d in entry.get("on", [])}
    return frozenset(off), frozenset(on), frozenset(years)


def is_working_day(day: dt.date, path: Path = HOLIDAYS_FILE) -> bool:
    off, on, _years = calendar(path)
    if day in on:
        return True
    return day.weekday() < 5 and day not in off


def add_working_days(start: dt.date, n: int, path: Path = HOLIDAYS_FILE) -> dt.date:
    """The ``n``-th working day after ``start`` (the day of the rating itself does not count)."""
    day = start
    while n > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day, path):
            n -= 1
    return day


def due_date(rated_on: dt.date, path: Path = HOLIDAYS_FILE) -> dt.date:
    return add_working_days(rated_on, FOLLOW_UP_WORKING_DAYS, path)


def covered(year: int, path: Path = HOLIDAYS_FILE) -> bool:
    return year in calendar(path)[2]
