"""The calendar table: a working-day index that keeps KPI SQL portable.

kpis.md: "Let wd(d) = number of working days in the range (a fixed epoch, d]. Then
working_days_between(a, b) = wd(b) - wd(a)." Working days are Monday to Friday
excluding bank holidays in England and Wales, taken from the maintained `holidays`
package (UK, subdivision ENG; England and Wales share their bank holidays apart from
none that differ since 1990 other than Scotland/NI days, which this excludes).
"""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import pandas as pd

from tasks.core.periods import add_months

CALENDAR_FIRST_DAY = date(1990, 1, 1)
CALENDAR_LAST_DAY = date(2045, 12, 31)
EPOCH = date(1970, 1, 1)


def bank_holidays(first_year: int, last_year: int) -> set[date]:
    england = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    return set(england.keys())


def build_calendar(first: date = CALENDAR_FIRST_DAY, last: date = CALENDAR_LAST_DAY) -> pd.DataFrame:
    """One row per day: day number, working-day flag and index, and month offsets."""
    closed = bank_holidays(first.year, last.year)
    rows = []
    working_index = 0
    day = first
    while day <= last:
        is_working = day.weekday() < 5 and day not in closed
        working_index += is_working
        rows.append((day, (day - EPOCH).days, int(is_working), working_index,
                     add_months(day, 1), add_months(day, 3), add_months(day, 6)))
        day += timedelta(days=1)
    return pd.DataFrame(rows, columns=["cal_date", "day_number", "is_working_day", "wd_index",
                                       "plus_1_month", "plus_3_months", "plus_6_months"])


def working_days_between(a: date, b: date, closed: set[date] | None = None) -> int:
    """wd(b) - wd(a), computed directly (used for checks and parameters)."""
    closed = bank_holidays(min(a, b).year, max(a, b).year) if closed is None else closed
    sign, lo, hi = (1, a, b) if a <= b else (-1, b, a)
    count = 0
    day = lo + timedelta(days=1)
    while day <= hi:
        count += day.weekday() < 5 and day not in closed
        day += timedelta(days=1)
    return sign * count
