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
-- The CTE held_reviews is identical to sql/drift_delay/dd05_cp_review_overdue.sql.
-- Grain: one row per CP review held in the period. Parameters: :period_start, :period_end.
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

reviews_with_due_dates as (
    select
        hr.*,
        p.cppl_person_id as plan_person_id,
        case
            when p.cppl_cp_plan_id is null then null
            when hr.review_number = 1 then plan_start.plus_3_months
            else previous.plus_6_months
        end as computed_due_date
    from held_reviews as hr
    left join ssd_cp_plans as p on p.cppl_cp_plan_id = hr.plan_id
    left join calendar as plan_start on plan_start.cal_date = p.cppl_cp_plan_start_date
    left join calendar as previous on previous.cal_date = hr.previous_review_date
),

reviews_in_period as (
    select
        review_id,
        coalesce(review_person_id, plan_person_id) as person_id,
        review_date,
        coalesce(recorded_due_date, computed_due_date) as due_date
    from reviews_with_due_dates
    where review_date >= :period_start
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
