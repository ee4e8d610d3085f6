-- DD05 CP review overdue (exception list).
-- Definition (kpis.md): "CP plan open at period_end whose next review due date (SAF14
-- rule, from the latest review held on or before period_end) is before period_end".
-- SAF14 rule (kpis.md): "the first review of a plan is due 3 months after plan_start and
-- each later review 6 months after the previous review".
-- Binding decisions: "DD05 and DD07: the next due date is computed from the rule only;
-- 'before period_end' is strict (due on period_end is not overdue)". SAF14: "only rows
-- with a review date are reviews; a plan's reviews are ordered by date (ties by id);
-- 'previous review' means the previous review's actual date". Recorded due dates are
-- ignored here. Month arithmetic clamps to the month end (calendar.plus_3_months /
-- plus_6_months). Open = start <= period_end and (end empty or end > period_end).
-- The CTE held_reviews is identical to sql/safety/saf14_cp_reviews_timescale.sql.
-- Next due: no review held yet -> plan_start + 3 months; else latest review + 6 months.
-- measure = days overdue = days_between(next due date, period_end).
-- Grain: one row per overdue open CP plan (record_id = plan id). Parameters: :period_end.
with held_reviews as (
    select
        r.cppr_cp_review_id as review_id,
        r.cppr_person_id as review_person_id,
        r.cppr_cp_plan_id as plan_id,
        r.cppr_cp_review_date as review_date,
        r.cppr_cp_review_due as recorded_due_date,
        row_number() over (
            partition by r.cppr_cp_plan_id
            order by r.cppr_cp_review_date, r.cppr_cp_review_id
        ) as review_number,
        lag(r.cppr_cp_review_date) over (
            partition by r.cppr_cp_plan_id
            order by r.cppr_cp_review_date, r.cppr_cp_review_id
        ) as previous_review_date
    from ssd_cp_reviews as r
    where r.cppr_cp_review_date is not null
      and r.cppr_cp_review_date <= :period_end
),

latest_reviews as (
    select plan_id, max(review_date) as latest_review_date
    from held_reviews
    group by plan_id
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

plans_with_next_due as (
    select
        op.plan_id,
        op.person_id,
        case
            when lr.latest_review_date is null then plan_start.plus_3_months
            else latest.plus_6_months
        end as next_due_date
    from open_plans as op
    left join latest_reviews as lr on lr.plan_id = op.plan_id
    left join calendar as plan_start on plan_start.cal_date = op.plan_start
    left join calendar as latest on latest.cal_date = lr.latest_review_date
),

final as (
    select
        p.plan_id as record_id,
        p.person_id,
        cast(null as varchar(64)) as team_id,
        cast(null as varchar(64)) as worker_id,
        1 as in_numerator,
        pe.day_number - due.day_number as measure
    from plans_with_next_due as p
    join calendar as due on due.cal_date = p.next_due_date
    join calendar as pe on pe.cal_date = :period_end
    where p.next_due_date < :period_end
)

select * from final
