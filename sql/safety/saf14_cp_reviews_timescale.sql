-- SAF14 CP reviews in timescale %.
-- Definition (kpis.md): "of CP reviews with cp_review_date in period: % with
-- review_date <= due_date. due_date = cppr_cp_review_due when present; otherwise the
-- first review of a plan is due 3 months after plan_start and each later review 6 months
-- after the previous review".
-- Binding decisions: "only rows with a review date are reviews (a row with only a due
-- date is a scheduled review, ignored); a plan's reviews are ordered by date (ties by
-- id); 'previous review' means the previous review's actual date; a recorded due date
-- replaces the computed one for that review only". Month arithmetic clamps to the month
-- end (calendar.plus_3_months / plus_6_months). A review dated after period_end does not
-- exist yet. A review whose plan is unknown has no computed due date (denominator only
-- unless a due date is recorded).
-- Reviews held, their order and computed due dates: sql/common/cp_review_due_dates.sql
-- (DD05 reads its next reviews).
-- Grain: one row per CP review held in the period. Parameters: :period_start, :period_end.
with reviews_in_period as (
    select
        review_id,
        coalesce(review_person_id, plan_person_id) as person_id,
        review_date,
        coalesce(recorded_due_date, computed_due_date) as due_date
    from cp_review_due_dates
    where is_next = 0
      and review_date >= :period_start
),

final as (
    select
        review_id as record_id,
        person_id,
        cast(null as varchar(64)) as team_id,
        cast(null as varchar(64)) as worker_id,
        case when review_date <= due_date then 1 else 0 end as in_numerator
    from reviews_in_period
)

select * from final
