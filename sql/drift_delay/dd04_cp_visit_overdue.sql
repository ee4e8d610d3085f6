-- DD04 CP visit overdue (exception list).
-- Definition (kpis.md): "the SAF13 denominator rows that are not in its numerator;
-- measure = working days since the last seen visit (or since plan start)".
-- SAF13 (kpis.md): "denominator: CP plans open at period_end with
-- working_days_between(plan_start, period_end) > 10; numerator: those with a visit where
-- cp_visit_seen = Y, plan_start <= visit_date <= period_end and
-- working_days_between(visit_date, period_end) <= 10".
-- Binding decisions: "visits join to plans by cppv_cp_plan_id; the unit is the plan; a
-- visit on period_end counts even at a weekend".
-- The CTEs up to plan_visit_status are identical to sql/safety/saf13_cp_visits_10wd.sql.
-- "Last seen visit" = the latest seen visit of the plan with
-- plan_start <= visit_date <= period_end.
-- Grain: one row per overdue CP plan (record_id = plan id). Parameters: :period_end.
with period_end_day as (
    select wd_index
    from calendar
    where cal_date = :period_end
),

open_plans as (
    select
        p.cppl_cp_plan_id as plan_id,
        p.cppl_person_id as person_id,
        p.cppl_cp_plan_start_date as plan_start
    from ssd_cp_plans as p
    where p.cppl_cp_plan_start_date <= :period_end
      and (p.cppl_cp_plan_end_date is null or p.cppl_cp_plan_end_date > :period_end)
),

plans_over_10wd as (
    select op.*
    from open_plans as op
    join calendar as start on start.cal_date = op.plan_start
    cross join period_end_day as pe
    where pe.wd_index - start.wd_index > 10
),

last_seen_visits as (
    select
        p.plan_id,
        max(v.cppv_cp_visit_date) as last_visit_date
    from plans_over_10wd as p
    join ssd_cp_visits as v on v.cppv_cp_plan_id = p.plan_id
    where v.cppv_cp_visit_seen = 'Y'
      and v.cppv_cp_visit_date >= p.plan_start
      and v.cppv_cp_visit_date <= :period_end
    group by p.plan_id
),

plan_visit_status as (
    select
        p.plan_id,
        p.person_id,
        lv.last_visit_date,
        pe.wd_index - since.wd_index as working_days_since_visit,
        case when lv.last_visit_date is not null and pe.wd_index - since.wd_index <= 10
             then 1 else 0 end as visited_within_10wd
    from plans_over_10wd as p
    left join last_seen_visits as lv on lv.plan_id = p.plan_id
    left join calendar as since on since.cal_date = coalesce(lv.last_visit_date, p.plan_start)
    cross join period_end_day as pe
),

final as (
    select
        plan_id as record_id,
        person_id,
        cast(null as varchar(64)) as team_id,
        cast(null as varchar(64)) as worker_id,
        1 as in_numerator,
        working_days_since_visit as measure
    from plan_visit_status
    where visited_within_10wd = 0
)

select * from final
