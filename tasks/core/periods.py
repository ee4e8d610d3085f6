"""Reporting periods and the date arithmetic of kpis.md ("Conventions")."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")


def add_months(day: date, months: int) -> date:
    """Same day N calendar months later, clamped to the month end (31 Aug + 3 = 30 Nov)."""
    month_index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last_day))


def years_before(day: date, years: int) -> date:
    """The date `years` before `day`, clamped (29 Feb -> 28 Feb).

    A child born on or before this date has reached `years` completed years on `day`;
    a 29 February birthday is reached on 1 March in other years, which this gives.
    """
    return add_months(day, -12 * years)


@dataclass(frozen=True, order=True)
class Period:
    """One calendar month, the unit of the monthly run."""

    start: date
    end: date

    @classmethod
    def month(cls, text: str) -> "Period":
        match = MONTH_PATTERN.match(text.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise ValueError(f"period must be YYYY-MM (for example 2024-03), not {text!r}")
        year, month = int(match.group(1)), int(match.group(2))
        return cls(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))

    @classmethod
    def containing(cls, day: date) -> "Period":
        return cls.month(f"{day.year:04d}-{day.month:02d}")

    @property
    def id(self) -> str:
        return f"{self.start.year:04d}-{self.start.month:02d}"

    def shift(self, months: int) -> "Period":
        return Period.containing(add_months(self.start, months))

    def trailing(self, count: int) -> list["Period"]:
        """This period and the `count - 1` before it, oldest first."""
        return [self.shift(-offset) for offset in range(count - 1, -1, -1)]

    @property
    def rolling_12m_start(self) -> date:
        """Rolling 12 months = the 365 days [period_end - 364, period_end]."""
        return self.end - timedelta(days=364)

    def __str__(self) -> str:
        return self.id


def latest_complete_month(today: date) -> Period:
    return Period.containing(today).shift(-1)


def months_between(first: str, last: str) -> list[Period]:
    start, end = Period.month(first), Period.month(last)
    if end < start:
        raise ValueError(f"--to {last} is before --from {first}")
    periods = [start]
    while periods[-1] < end:
        periods.append(periods[-1].shift(1))
    return periods


@dataclass(frozen=True, order=True)
class MonthToDate(Period):
    """The month so far, as at one day (the daily and weekly runs): period_start is the
    1st of the month, period_end the as-at day, so "as at period_end" exception lists are
    live lists as at that day and "in month" counts are month-to-date. Its id is the day
    (YYYY-MM-DD), so these figures never collide with a month's."""

    @classmethod
    def as_at(cls, day: date) -> "MonthToDate":
        return cls(day.replace(day=1), day)

    @property
    def id(self) -> str:
        return self.end.isoformat()
