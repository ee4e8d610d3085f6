"""Periods, month arithmetic, ages and the working-day index (kpis.md "Conventions")."""

from datetime import date

import pytest

from tasks.core.calendar import build_calendar, working_days_between
from tasks.kpis.compute import percent, rate_per_10k, mean
from tasks.core.periods import Period, add_months, months_between, years_before


def test_month_period_bounds_and_rolling_window():
    period = Period.month("2024-02")
    assert (period.start, period.end) == (date(2024, 2, 1), date(2024, 2, 29))
    assert period.rolling_12m_start == date(2023, 3, 2)  # 365 days ending 29 Feb 2024
    assert [p.id for p in period.trailing(3)] == ["2023-12", "2024-01", "2024-02"]


@pytest.mark.parametrize("text", ["2024-13", "2024/03", "March", "2024-3"])
def test_bad_period_is_refused_clearly(text):
    with pytest.raises(ValueError, match="YYYY-MM"):
        Period.month(text)


def test_month_arithmetic_clamps_to_month_end():
    assert add_months(date(2024, 8, 31), 3) == date(2024, 11, 30)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2023, 1, 31), 1) == date(2023, 2, 28)


def test_29_february_birthday_is_reached_on_1_march():
    # Born 29 Feb 2008: not 17 on 28 Feb 2025, 17 on 1 Mar 2025.
    assert date(2008, 2, 29) > years_before(date(2025, 2, 28), 17)
    assert date(2008, 2, 29) <= years_before(date(2025, 3, 1), 17)


def test_working_days_examples_from_kpis_md():
    assert working_days_between(date(2024, 3, 4), date(2024, 3, 11)) == 5  # Monday to Monday
    assert working_days_between(date(2024, 3, 9), date(2024, 3, 11)) == 1  # Saturday to Monday
    # Easter 2024: Good Friday 29 Mar and Easter Monday 1 Apr are bank holidays.
    assert working_days_between(date(2024, 3, 28), date(2024, 4, 2)) == 1
    assert months_between("2023-11", "2024-02")[-1].id == "2024-02"


def test_calendar_index_matches_direct_count():
    calendar = build_calendar(date(2023, 12, 1), date(2024, 1, 31)).set_index("cal_date")
    wd = calendar["wd_index"]
    assert wd[date(2024, 1, 2)] - wd[date(2023, 12, 22)] == working_days_between(
        date(2023, 12, 22), date(2024, 1, 2)) == 4  # 27-29 Dec and 2 Jan; 25, 26 Dec and 1 Jan closed
    assert calendar.loc[date(2023, 12, 25), "is_working_day"] == 0
    assert calendar.loc[date(2024, 1, 31), "plus_1_month"] == date(2024, 2, 29)


def test_rounding_is_half_up_from_the_exact_fraction():
    assert percent(1, 16) == 6.3
    assert percent(1, 8) == 12.5
    assert percent(0, 0) is None
    assert rate_per_10k(1, 8) == 12.5 * 100
    assert mean(41, 2) == 20.5
