-- IRO02 DRP alerts resolved within 20 working days %.
-- Definition (kpis.md): "of alerts with resolved_date in period: % with
-- working_days_between(raised, resolved) <= 20". A missing raised date: denominator only
-- (kpis.md "Missing dates"). working_days_between(a, b) = wd(b) - wd(a), from `calendar`.
-- Grain: one row per alert resolved in the period; measure = working days from raised to
-- resolved. team_id = the alert's team, worker_id empty: as kpis.md's Team / worker
-- attribution, the child's allocated worker at period_end (and their team) takes
-- precedence, else the alert's team (the IRO is not the worker who must act).
-- Parameters: :period_start, :period_end.
with resolved_in_period as (
    select *
    from iro_drp_alerts
    where resolved_date between :period_start and :period_end
),

final as (
    select
        a.drp_id as record_id,
        a.person_id,
        a.team_id,
        cast(null as varchar(64)) as worker_id,
        case when resolved.wd_index - raised.wd_index <= 20 then 1 else 0 end as in_numerator,
        resolved.wd_index - raised.wd_index as measure
    from resolved_in_period as a
    left join calendar as raised on raised.cal_date = a.raised_date
    left join calendar as resolved on resolved.cal_date = a.resolved_date
)

select * from final
