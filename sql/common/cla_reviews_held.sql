-- CLA reviews held (not cancelled) on or before period_end, numbered within their
-- period of care (SAF18, DD07).
-- Binding decisions (SAF18): "only rows with a review date are reviews; a period of
-- care's reviews are ordered by date (ties by id); 'previous review' means the previous
-- review's actual date". "The period of care is clar_cla_id; ... cancelled reviews are
-- outside the KPI and outside the first/second/later sequence". A review dated after
-- period_end does not exist yet.
-- Grain: one row per review held. Parameters: :period_end.
select
    r.clar_cla_review_id as review_id,
    r.clar_cla_person_id as review_person_id,
    r.clar_cla_id as cla_id,
    r.clar_cla_review_date as review_date,
    r.clar_cla_review_due_date as recorded_due_date,
    row_number() over (
        partition by r.clar_cla_id
        order by r.clar_cla_review_date, r.clar_cla_review_id
    ) as review_number,
    lag(r.clar_cla_review_date) over (
        partition by r.clar_cla_id
        order by r.clar_cla_review_date, r.clar_cla_review_id
    ) as previous_review_date
from ssd_cla_reviews as r
where r.clar_cla_review_date is not null
  and r.clar_cla_review_date <= :period_end
  and coalesce(r.clar_cla_review_cancelled, '') <> 'Y'
