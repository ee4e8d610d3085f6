-- SAF18 CLA reviews in timescale %.
-- Definition (kpis.md): "of CLA reviews with review_date in period and review_cancelled
-- not Y: % with review_date <= due_date. due_date = clar_cla_review_due_date when
-- present; otherwise the first review of a period of care is due 20 working days after
-- entered_care_date, the second 3 months after the first review, each later one 6
-- months after the previous review".
-- Binding decisions: "only rows with a review date are reviews; a period of care's
-- reviews are ordered by date (ties by id); 'previous review' means the previous
-- review's actual date; a recorded due date replaces the computed one for that review
-- only". "The period of care is clar_cla_id; its entry date is the earliest
-- clae_entered_care_date among that clae_cla_id's episodes starting on or before
-- period_end; cancelled reviews are outside the KPI and outside the
-- first/second/later sequence; the computed first due date is the 20th working day
-- after the entry date". The 20th working day after d is the calendar row with
-- wd_index = wd(d) + 20 and is_working_day = 1; months clamp to the month end.
-- A review dated after period_end does not exist yet. Only the first review's computed
-- due date needs the entry date: when the period of care has no episode started by
-- period_end, a first review without a recorded due date is in the denominator only,
-- while later reviews are still due 3 or 6 months after the previous review.
-- person_id: clar_cla_person_id when extracted, else the period of care's child.
-- Reviews held, their order and computed due dates: sql/common/cla_review_due_dates.sql
-- (DD07 reads its next reviews).
-- Grain: one row per CLA review held (not cancelled) in the period.
-- Parameters: :period_start, :period_end.
with reviews_in_period as (
    select
        review_id,
        coalesce(review_person_id, care_person_id) as person_id,
        review_date,
        coalesce(recorded_due_date, computed_due_date) as due_date
    from cla_review_due_dates
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
