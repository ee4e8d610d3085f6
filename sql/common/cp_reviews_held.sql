-- CP reviews held on or before period_end, numbered within their plan (SAF14, DD05).
-- Binding decisions (SAF14): "only rows with a review date are reviews (a row with only
-- a due date is a scheduled review, ignored); a plan's reviews are ordered by date (ties
-- by id); 'previous review' means the previous review's actual date". A review dated
-- after period_end does not exist yet.
-- Grain: one row per review held. Parameters: :period_end.
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
