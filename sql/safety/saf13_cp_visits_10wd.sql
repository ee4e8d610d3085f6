-- SAF13 CP visits within 10 working days %.
-- Definition (kpis.md): "denominator: CP plans open at period_end with
-- working_days_between(plan_start, period_end) > 10; numerator: those with a visit where
-- cp_visit_seen = Y, plan_start <= visit_date <= period_end and
-- working_days_between(visit_date, period_end) <= 10".
-- Binding decisions: "visits join to plans by cppv_cp_plan_id; the unit is the plan; a
-- visit on period_end counts even at a weekend" (wd(period_end) - wd(visit) = 0 then).
-- Open: sql/common/cp_plans_open.sql. A visit dated after period_end does not exist yet.
-- The latest qualifying seen visit decides: the plan is in the numerator when it is
-- within 10 working days of period_end. measure = working days since that visit (or
-- since plan start when there is none), the measure DD04 lists: DD04 reads these rows.
-- Grain: one row per CP plan in the denominator. Also plan_start, last_visit and
-- due_date (the 10th working day after the last visit, or plan start), which DD04's list
-- shows. Parameters: :period_end.
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
    from cp_plans_open as p
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
        p.plan_start,
        lv.last_visit_date,
        due.cal_date as visit_due_date,
        pe.wd_index - since.wd_index as working_days_since_visit,
        case when lv.last_visit_date is not null and pe.wd_index - since.wd_index <= 10
             then 1 else 0 end as visited_within_10wd
    from plans_over_10wd as p
    left join last_seen_visits as lv on lv.plan_id = p.plan_id
    left join calendar as since on since.cal_date = coalesce(lv.last_visit_date, p.plan_start)
    left join calendar as due on due.wd_index = since.wd_index + 10 and due.is_working_day = 1
    cross join period_end_day as pe
),

final as (
    select
        plan_id as record_id,
        person_id,
        cast(null as varchar(64)) as team_id,
        cast(null as varchar(64)) as worker_id,
        visited_within_10wd as in_numerator,
        working_days_since_visit as measure,
        plan_start,
        last_visit_date as last_visit,
        visit_due_date as due_date
    from plan_visit_status
)

select * from final
