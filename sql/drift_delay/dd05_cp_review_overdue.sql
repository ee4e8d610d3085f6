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
-- plus_6_months). The next review's due date: sql/common/cp_review_due_dates.sql, as
-- SAF14 computes its reviews' (no review held yet: plan_start + 3 months; else the
-- latest review + 6 months); open plans: sql/common/cp_plans_open.sql.
-- measure = days overdue = days_between(next due date, period_end).
-- Shown on the list (registry list_columns): plan_start, last_review (the latest review
-- held, empty when none) and due_date (the next review's).
-- Grain: one row per overdue open CP plan (record_id = plan id). Parameters: :period_end.
with plans_with_next_due as (
    select
        op.cppl_cp_plan_id as plan_id,
        op.cppl_person_id as person_id,
        op.cppl_cp_plan_start_date as plan_start,
        d.previous_review_date as last_review,
        d.computed_due_date as next_due_date
    from cp_plans_open as op
    join cp_review_due_dates as d on d.plan_id = op.cppl_cp_plan_id and d.is_next = 1
),

final as (
    select
        p.plan_id as record_id,
        p.person_id,
        cast(null as varchar(64)) as team_id,
        cast(null as varchar(64)) as worker_id,
        1 as in_numerator,
        pe.day_number - due.day_number as measure,
        p.plan_start,
        p.last_review,
        p.next_due_date as due_date
    from plans_with_next_due as p
    join calendar as due on due.cal_date = p.next_due_date
    join calendar as pe on pe.cal_date = :period_end
    where p.next_due_date < :period_end
)

select * from final
