"""15 working days for a 差评's follow-up: weekends and public holidays do not count, the
weekend days worked in their place (调休) do."""

import datetime as dt

from kiosk.gateway import workdays


def test_spring_festival_and_its_make_up_days():
    # 2025-01-20 (Mon): Jan 26 (Sun) and Feb 8 (Sat) are worked, Jan 28 - Feb 4 are not
    assert workdays.due_date(dt.date(2025, 1, 20)) == dt.date(2025, 2, 14)
    assert workdays.is_working_day(dt.date(2025, 1, 26)) and not workdays.is_working_day(dt.date(2025, 1, 29))


def test_an_ordinary_stretch_is_three_weeks():
    assert workdays.due_date(dt.date(2025, 3, 3)) == dt.date(2025, 3, 24)


def test_a_year_without_a_calendar_counts_weekdays_and_says_so():
    assert not workdays.covered(2031)
    assert workdays.due_date(dt.date(2031, 6, 2)) == dt.date(2031, 6, 23)
