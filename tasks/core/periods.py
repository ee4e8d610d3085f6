"""Reporting periods and the date arithmetic of kpis.md ("Conventions")."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")
QUARTER_PATTERN = re.compile(r"^(\d{4})-Q([1-4])$")
# financial years (April-March): `2024-25`; their halves `2024-25-H1` (April-September)
# and `2024-25-H2` (October-March)
FINANCIAL_YEAR_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")
HALF_PATTERN = re.compile(r"^(\d{4})-(\d{2})-H([12])$")
# the short form of a half (issue 15): `2024-H1` = `2024-25-H1`, named by the year it starts in
SHORT_HALF_PATTERN = re.compile(r"^(\d{4})-H([12])$")
# The kinds of period and their length in calendar months.
PERIOD_MONTHS = {"month": 1, "quarter": 3, "half": 6, "year": 12}
PERIOD_FORMS = "YYYY-MM (month), YYYY-Qn (calendar quarter), YYYY-YY-Hn (financial-year half) or YYYY-YY (financial year)"


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
    """A reporting period: a calendar month (the monthly run), a calendar quarter
    (`2024-Q1` = January-March 2024), a financial-year half (`2024-25-H1` = April-September
    2024, `2024-25-H2` = October 2024-March 2025) or a financial year (`2024-25` =
    April 2024-March 2025). `start`/`end` are its first and last days (`period_start`,
    `period_end`)."""

    start: date
    end: date
    kind: str = "month"

    @classmethod
    def month(cls, text: str) -> "Period":
        match = MONTH_PATTERN.match(text.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise ValueError(f"period must be YYYY-MM (for example 2024-03), not {text!r}")
        year, month = int(match.group(1)), int(match.group(2))
        return cls(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))

    @classmethod
    def quarter(cls, text: str) -> "Period":
        """A calendar quarter, `YYYY-Qn` (kpis.md: `2024-Q1` = January to March 2024)."""
        match = QUARTER_PATTERN.match(text.strip())
        if not match:
            raise ValueError(f"quarter must be YYYY-Qn (for example 2024-Q1), not {text!r}")
        return _spanning("quarter", date(int(match.group(1)), 3 * int(match.group(2)) - 2, 1))

    @classmethod
    def half(cls, text: str) -> "Period":
        """A financial-year half, `YYYY-YY-Hn`: H1 = April-September of the first year,
        H2 = October-March. `YYYY-Hn` is the same half of the financial year starting
        in April YYYY (`2024-H2` = `2024-25-H2`, October 2024-March 2025)."""
        short = SHORT_HALF_PATTERN.match(text.strip())
        if short:
            first = int(short.group(1))
            text = f"{first:04d}-{(first + 1) % 100:02d}-H{short.group(2)}"
        match = HALF_PATTERN.match(text.strip())
        if not match or not _next_year(match.group(1), match.group(2)):
            raise ValueError(f"half must be YYYY-YY-Hn (for example 2024-25-H1), not {text!r}")
        return _spanning("half", date(int(match.group(1)), 4 if match.group(3) == "1" else 10, 1))

    @classmethod
    def financial_year(cls, text: str) -> "Period":
        """A financial year, `YYYY-YY` (April to March): `2024-25`."""
        match = FINANCIAL_YEAR_PATTERN.match(text.strip())
        if not match or not _next_year(match.group(1), match.group(2)):
            raise ValueError(f"financial year must be YYYY-YY (for example 2024-25), not {text!r}")
        return _spanning("year", date(int(match.group(1)), 4, 1))

    @classmethod
    def parse(cls, text: str) -> "Period":
        """Any period id. `YYYY-MM` is always a month: a financial year `YYYY-YY` is read
        as such only when its second part is not a month (2012-13 onwards)."""
        text = str(text).strip()
        if QUARTER_PATTERN.match(text):
            return cls.quarter(text)
        if HALF_PATTERN.match(text) or SHORT_HALF_PATTERN.match(text):
            return cls.half(text)
        match = MONTH_PATTERN.match(text)
        if match and 1 <= int(match.group(2)) <= 12:
            return cls.month(text)
        if match and _next_year(match.group(1), match.group(2)):
            return cls.financial_year(text)
        raise ValueError(f"period must be {PERIOD_FORMS}, not {text!r}")

    @classmethod
    def containing(cls, day: date) -> "Period":
        return cls.month(f"{day.year:04d}-{day.month:02d}")

    @classmethod
    def quarter_containing(cls, day: date) -> "Period":
        return _spanning("quarter", date(day.year, 3 * ((day.month - 1) // 3) + 1, 1))

    @classmethod
    def half_containing(cls, day: date) -> "Period":
        return _spanning("half", date(day.year, 4, 1) if 4 <= day.month <= 9
                         else date(day.year if day.month >= 10 else day.year - 1, 10, 1))

    @classmethod
    def financial_year_containing(cls, day: date) -> "Period":
        return _spanning("year", date(day.year if day.month >= 4 else day.year - 1, 4, 1))

    @property
    def id(self) -> str:
        if self.kind == "quarter":
            return f"{self.start.year:04d}-Q{(self.start.month + 2) // 3}"
        if self.kind in ("half", "year"):
            first = self.start.year if self.start.month >= 4 else self.start.year - 1
            year = f"{first:04d}-{(first + 1) % 100:02d}"
            return year if self.kind == "year" else f"{year}-H{1 if self.start.month == 4 else 2}"
        return f"{self.start.year:04d}-{self.start.month:02d}"

    def shift(self, periods: int) -> "Period":
        """The period `periods` periods of its kind later (earlier when negative); a
        month-to-date shifts to whole months."""
        if self.kind == "month":
            return Period.containing(add_months(self.start, periods))
        return _spanning(self.kind, add_months(self.start, periods * PERIOD_MONTHS[self.kind]))

    @property
    def previous(self) -> "Period":
        return self.shift(-1)

    def trailing(self, count: int) -> list["Period"]:
        """This period and the `count - 1` before it, oldest first."""
        return [self.shift(-offset) for offset in range(count - 1, -1, -1)]

    @property
    def last_month(self) -> "Period":
        """The calendar month of period_end ("the period month" of a month's run)."""
        return Period.containing(self.end)

    @property
    def months(self) -> list["Period"]:
        """The calendar months of the period, oldest first."""
        return self.last_month.trailing(PERIOD_MONTHS.get(self.kind, 1))

    @property
    def quarters(self) -> list["Period"]:
        """The calendar quarters of a half or financial year, oldest first (a half's two,
        a year's four); a quarter's is itself."""
        return [Period.quarter_containing(m.start) for m in self.months[::3]]

    @property
    def rolling_12m_start(self) -> date:
        """Rolling 12 months = the 365 days [period_end - 364, period_end]."""
        return self.end - timedelta(days=364)

    def __str__(self) -> str:
        return self.id


def _spanning(kind: str, first: date) -> Period:
    last_month = add_months(first, PERIOD_MONTHS[kind] - 1)
    return Period(first, last_month.replace(day=calendar.monthrange(last_month.year, last_month.month)[1]), kind)


def _next_year(first: str, second: str) -> bool:
    return (int(first) + 1) % 100 == int(second)


def latest_complete_month(today: date) -> Period:
    return Period.containing(today).shift(-1)


def latest_complete_quarter(today: date) -> Period:
    """The calendar quarter before the one containing `today`."""
    return Period.quarter_containing(today).shift(-1)


def latest_complete_half(today: date) -> Period:
    """The financial-year half before the one containing `today`."""
    return Period.half_containing(today).shift(-1)


def latest_complete_financial_year(today: date) -> Period:
    """The financial year (April-March) before the one containing `today`."""
    return Period.financial_year_containing(today).shift(-1)


def periods_between(first: str, last: str) -> list[Period]:
    """Every period from `first` to `last` inclusive, both of one kind (2023-Q3 .. 2024-Q2)."""
    start, end = Period.parse(first), Period.parse(last)
    if start.kind != end.kind:
        raise ValueError(f"--from {first} and --to {last} are not periods of one kind")
    if end < start:
        raise ValueError(f"--to {last} is before --from {first}")
    periods = [start]
    while periods[-1] < end:
        periods.append(periods[-1].shift(1))
    return periods


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
