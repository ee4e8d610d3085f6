-- The SAF14 due date of each CP review held on or before period_end and of each plan's
-- next review (SAF14, DD05).
-- SAF14 (kpis.md): "the first review of a plan is due 3 months after plan_start and each
-- later review 6 months after the previous review" (computed_due_date; SAF14 prefers
-- a recorded due date). DD05: "next review due date (SAF14 rule, from the latest review
-- held on or before period_end)": the next review is numbered after the latest review
-- held and due after it (is_next = 1; no review held yet: due 3 months after
-- plan_start). Month arithmetic clamps to the month end (calendar.plus_3_months /
-- plus_6_months). A review whose plan is unknown has no computed due date.
-- Grain: one row per review held (sql/common/cp_reviews_held.sql) and one per plan
-- (its next review). Parameters: :period_end.
with next_reviews as (
    select
        p.cppl_cp_plan_id as plan_id,
        coalesce(max(r.review_number), 0) + 1 as review_number,
        max(r.review_date) as previous_review_date
    from ssd_cp_plans as p
    left join cp_reviews_held as r on r.plan_id = p.cppl_cp_plan_id
    group by p.cppl_cp_plan_id
),

reviews as (
    select
        review_id, review_person_id, plan_id, review_date, recorded_due_date,
        review_number, previous_review_date, 0 as is_next
    from cp_reviews_held
    union all
    select
        null, null, plan_id, null, null,
        review_number, previous_review_date, 1
    from next_reviews
),

final as (
    select
        r.*,
        p.cppl_person_id as plan_person_id,
        case
            when p.cppl_cp_plan_id is null then null
            when r.review_number = 1 then plan_start.plus_3_months
            else previous.plus_6_months
        end as computed_due_date
    from reviews as r
    left join ssd_cp_plans as p on p.cppl_cp_plan_id = r.plan_id
    left join calendar as plan_start on plan_start.cal_date = p.cppl_cp_plan_start_date
    left join calendar as previous on previous.cal_date = r.previous_review_date
)

select * from final
