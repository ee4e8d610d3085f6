-- SAF15 CP plans ending that lasted 2 years or more %.
-- Definition (kpis.md): "of CP plans with cp_plan_end_date in period: % with
-- days_between(start, end) >= 730". days_between(a, b) = b - a in calendar days, from
-- `calendar`.day_number; "2 years" = 730 days (exactly 730 is in the numerator).
-- Binding decisions: a plan with no start date counts in the denominator and never in
-- the numerator ("missing dates"); an end date after period_end has not happened yet,
-- so that plan is not ending in this period.
-- Grain: one row per CP plan ended in the period. measure = days the plan lasted.
-- Team/worker: ssd_cp_plans has no team or worker column (NULL; the framework uses
-- the child's allocated worker).
-- Parameters: :period_start, :period_end.
with plans_ended_in_period as (
    select *
    from ssd_cp_plans
    where cppl_cp_plan_end_date between :period_start and :period_end
),

plan_lengths as (
    select
        p.cppl_cp_plan_id as plan_id,
        p.cppl_person_id as person_id,
        plan_end.day_number - plan_start.day_number as days_lasted
    from plans_ended_in_period as p
    left join calendar as plan_start on plan_start.cal_date = p.cppl_cp_plan_start_date
    left join calendar as plan_end on plan_end.cal_date = p.cppl_cp_plan_end_date
),

final as (
    select
        plan_id as record_id,
        person_id,
        cast(null as varchar(64)) as team_id,
        cast(null as varchar(64)) as worker_id,
        case when days_lasted >= 730 then 1 else 0 end as in_numerator,
        days_lasted as measure
    from plan_lengths
)

select * from final
