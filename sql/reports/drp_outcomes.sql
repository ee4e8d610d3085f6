-- DRP alert outcomes: the alerts closed in the period (resolved_date in period), counted
-- by outcome (resolved, escalated, withdrawn; DRP and IRO report, issue 15). kpis.md
-- defines no outcome measure; the rule here: an alert's outcome is recorded when it is
-- closed, on its resolved_date (sources.md), so the population is IRO02's (alerts with
-- resolved_date in period) and the outcomes add up to IRO02's denominator, the total the
-- report shows beside them. Outcome trimmed and lower-cased; empty = 'not recorded'.
-- An alert still open at period_end has no outcome yet (IRO03 counts the old ones).
-- Grain: one row per outcome with its count. Parameters: :period_start, :period_end.
with closed_in_period as (
    select *
    from iro_drp_alerts
    where resolved_date between :period_start and :period_end
),

outcomes as (
    select coalesce(nullif(lower(trim(outcome)), ''), 'not recorded') as outcome
    from closed_in_period
),

final as (
    select outcome as name, count(*) as alerts
    from outcomes
    group by outcome
)

select * from final
