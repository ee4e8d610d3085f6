-- The SAF18 due date of each CLA review held on or before period_end and of each
-- period of care's next review (SAF18, DD07).
-- SAF18 (kpis.md): "the first review of a period of care is due 20 working days after
-- entered_care_date, the second 3 months after the first review, each later one 6
-- months after the previous review" (computed_due_date; SAF18 prefers a recorded due
-- date). Binding decisions (SAF18): "the computed first due date is the 20th working day
-- after the entry date" (the period of care's, sql/common/cla_periods_of_care.sql). The
-- 20th working day after d is the calendar row with wd_index = wd(d) + 20 and
-- is_working_day = 1; months clamp to the month end. DD07 ("next review due date
-- (SAF18 rule)"): the next review is numbered after the latest review held and due
-- after it (is_next = 1).
-- Grain: one row per review held (sql/common/cla_reviews_held.sql) and one per period
-- of care (its next review). Parameters: :period_end.
with next_reviews as (
    select
        poc.cla_id,
        coalesce(max(r.review_number), 0) + 1 as review_number,
        max(r.review_date) as previous_review_date
    from cla_periods_of_care as poc
    left join cla_reviews_held as r on r.cla_id = poc.cla_id
    group by poc.cla_id
),

reviews as (
    select
        review_id, review_person_id, cla_id, review_date, recorded_due_date,
        review_number, previous_review_date, 0 as is_next
    from cla_reviews_held
    union all
    select
        null, null, cla_id, null, null,
        review_number, previous_review_date, 1
    from next_reviews
),

final as (
    select
        r.*,
        poc.person_id as care_person_id,
        case
            when r.review_number = 1 then first_due.cal_date
            when r.review_number = 2 then previous.plus_3_months
            else previous.plus_6_months
        end as computed_due_date
    from reviews as r
    left join cla_periods_of_care as poc on poc.cla_id = r.cla_id
    left join calendar as entry on entry.cal_date = poc.entry_date
    left join calendar as first_due
        on first_due.wd_index = entry.wd_index + 20 and first_due.is_working_day = 1
    left join calendar as previous on previous.cal_date = r.previous_review_date
)

select * from final
