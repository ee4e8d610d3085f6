-- IRO03 DRP alerts open over 20 working days.
-- Definition (kpis.md): "open at period_end with working_days_between(raised,
-- period_end) > 20 (child-level list)".
-- Binding decisions: "Open (... DRP alerts ...): start <= period_end and (end empty or
-- end > period_end). An end date equal to period_end means closed": start =
-- raised_date, end = resolved_date (a resolution after period_end leaves it open).
-- "IRO03: exactly 20 working days is not an exception."
-- Grain: one row per exception (alert); measure = working days open at period_end.
-- team_id = the alert's team, worker_id empty: as kpis.md's Team / worker
-- attribution, the child's allocated worker at period_end (and their team) takes
-- precedence, else the alert's team (the IRO is not the worker who must act).
-- Parameters: :period_end.
with period_end_day as (
    select wd_index
    from calendar
    where cal_date = :period_end
),

open_alerts as (
    select
        a.drp_id,
        a.person_id,
        a.team_id,
        pe.wd_index - raised.wd_index as working_days_open
    from iro_drp_alerts as a
    inner join calendar as raised on raised.cal_date = a.raised_date
    cross join period_end_day as pe
    where a.raised_date <= :period_end
      and (a.resolved_date is null or a.resolved_date > :period_end)
),

final as (
    select
        drp_id as record_id,
        person_id,
        team_id,
        cast(null as varchar(64)) as worker_id,
        1 as in_numerator,
        working_days_open as measure
    from open_alerts
    where working_days_open > 20
)

select * from final
