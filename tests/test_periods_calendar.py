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


# --- quarters, financial-year halves and years (issue 15) ------------------------------

def test_calendar_quarter_bounds_previous_and_trailing():
    quarter = Period.quarter("2024-Q1")
    assert (quarter.start, quarter.end, quarter.kind, quarter.id) == (date(2024, 1, 1), date(2024, 3, 31),
                                                                       "quarter", "2024-Q1")
    assert Period.quarter("2024-Q4").end == date(2024, 12, 31)
    assert quarter.previous.id == "2023-Q4"
    assert [p.id for p in quarter.trailing(4)] == ["2023-Q2", "2023-Q3", "2023-Q4", "2024-Q1"]
    assert [m.id for m in quarter.months] == ["2024-01", "2024-02", "2024-03"]
    assert quarter.rolling_12m_start == date(2023, 4, 2)  # 365 days ending 31 Mar 2024, across 29 Feb


def test_financial_year_halves_and_years():
    first, second = Period.half("2024-25-H1"), Period.half("2024-25-H2")
    assert (first.start, first.end) == (date(2024, 4, 1), date(2024, 9, 30))
    assert (second.start, second.end) == (date(2024, 10, 1), date(2025, 3, 31))
    assert (first.id, second.id) == ("2024-25-H1", "2024-25-H2")
    assert first.previous.id == "2023-24-H2" and second.previous.id == "2024-25-H1"
    assert [p.id for p in second.trailing(3)] == ["2023-24-H2", "2024-25-H1", "2024-25-H2"]
    year = Period.financial_year("2024-25")
    assert (year.start, year.end, year.id, year.previous.id) == (date(2024, 4, 1), date(2025, 3, 31),
                                                                 "2024-25", "2023-24")
    assert Period.half("1999-00-H2").end == date(2000, 3, 31)


@pytest.mark.parametrize("text, kind", [("2024-03", "month"), ("2024-Q2", "quarter"), ("2024-25-H1", "half"),
                                        ("2024-25", "year"), (" 2024-Q3 ", "quarter")])
def test_any_period_id_parses_and_round_trips(text, kind):
    period = Period.parse(text)
    assert (period.kind, period.id) == (kind, text.strip())


@pytest.mark.parametrize("text", ["2024-Q5", "2024-Q0", "2024-26-H1", "2024-25-H3", "2024-26", "2024-13",
                                  "Q1 2024", "2024-25-h1"])
def test_bad_period_ids_are_refused_clearly(text):
    with pytest.raises(ValueError, match="YYYY"):
        Period.parse(text)


def test_a_month_id_is_always_a_month():
    """2011-12 is December 2011, never the financial year 2011-12 (ids from 2012-13 on)."""
    assert Period.parse("2011-12").kind == "month"
    assert Period.financial_year("2011-12").id == "2011-12"


def test_sql_parameters_of_a_quarter_and_a_half():
    from tasks.kpis.compute import period_parameters
    from tests.kpi_harness import CONTEXT
    quarter = period_parameters(Period.parse("2024-Q2"), CONTEXT)
    assert (quarter["period_start"], quarter["period_end"]) == (date(2024, 4, 1), date(2024, 6, 30))
    assert (quarter["prev_period_start"], quarter["prev_period_end"]) == (date(2024, 1, 1), date(2024, 3, 31))
    assert (quarter["prev_quarter_start"], quarter["prev_quarter_end"]) == (date(2024, 1, 1), date(2024, 3, 31))
    assert (quarter["prev_month_start"], quarter["prev_month_end"]) == (date(2024, 3, 1), date(2024, 3, 31))
    assert quarter["rolling_3m_start"] == date(2024, 4, 1)  # the 3 months ending with June
    assert quarter["rolling_12m_start"] == date(2023, 7, 2)
    assert quarter["dob_17y"] == date(2007, 6, 30)
    half = period_parameters(Period.parse("2024-25-H2"), CONTEXT)
    assert (half["period_start"], half["period_end"]) == (date(2024, 10, 1), date(2025, 3, 31))
    assert (half["prev_period_start"], half["prev_period_end"]) == (date(2024, 4, 1), date(2024, 9, 30))
    # CMP05's "previous quarter": the quarter before the one containing period_end
    assert (half["prev_quarter_start"], half["prev_quarter_end"]) == (date(2024, 10, 1), date(2024, 12, 31))


def test_a_months_sql_parameters_are_unchanged():
    from tasks.kpis.compute import period_parameters
    from tests.kpi_harness import CONTEXT
    month = period_parameters(Period.month("2024-03"), CONTEXT)
    assert (month["prev_month_start"], month["prev_month_end"]) == (date(2024, 2, 1), date(2024, 2, 29))
    assert (month["rolling_3m_start"], month["prior_3m_start"]) == (date(2024, 1, 1), date(2023, 12, 1))
    assert (month["prev_period_start"], month["prev_quarter_start"], month["prev_quarter_end"]) == (
        date(2024, 2, 1), date(2023, 10, 1), date(2023, 12, 31))


def test_the_quarters_of_a_half_and_a_financial_year():
    from tasks.core.periods import Period
    assert [q.id for q in Period.half("2024-25-H2").quarters] == ["2024-Q4", "2025-Q1"]
    assert [q.id for q in Period.financial_year("2024-25").quarters] == ["2024-Q2", "2024-Q3", "2024-Q4", "2025-Q1"]
    assert [q.id for q in Period.quarter("2024-Q3").quarters] == ["2024-Q3"]
