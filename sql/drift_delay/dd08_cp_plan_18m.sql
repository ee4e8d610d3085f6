-- DD08 CP plan open 18 months or more.
-- Definition (kpis.md): "CP plan open at period_end with days_between(start,
-- period_end) >= 548" ("18 months" = 548 days).
-- Binding decisions: open = "start <= period_end and (end empty or end > period_end).
-- An end date equal to period_end means closed"; "an end date after it leaves the plan
-- open" (sql/common/cp_plans_open.sql). days_between(a, b) = day_number(b) - day_number(a), from `calendar`.
-- Grain: one row per exception (CP plan); measure = days since plan start. The plan
-- table has no team or worker (the child's allocated worker attributes it).
-- Shown on the list (registry list_columns): plan_start and reached_18m (548 days after).
-- Parameters: :period_end.
with period_end_day as (
    select day_number
    from calendar
    where cal_date = :period_end
),

open_plans as (
    select
        p.cppl_cp_plan_id,
        p.cppl_person_id,
        p.cppl_cp_plan_start_date,
        pe.day_number - start.day_number as days_open,
        reached.cal_date as reached_18m
    from cp_plans_open as p
    inner join calendar as start on start.cal_date = p.cppl_cp_plan_start_date
    cross join period_end_day as pe
    left join calendar as reached on reached.day_number = start.day_number + 548
),

final as (
    select
        cppl_cp_plan_id as record_id,
        cppl_person_id as person_id,
        cast(null as varchar(64)) as team_id,
        cast(null as varchar(64)) as worker_id,
        1 as in_numerator,
        days_open as measure,
        cppl_cp_plan_start_date as plan_start,
        reached_18m
    from open_plans
    where days_open >= 548
)

select * from final
