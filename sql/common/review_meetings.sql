-- CLA reviews (not cancelled) and CP reviews held in the period, as IRO meetings
-- (IRO04, IRO05).
-- Binding decisions (SAF14, SAF18): only rows with a review date are reviews; a CLA
-- review is cancelled when clar_cla_review_cancelled is Y ("an empty flag is not Y").
-- meeting_type is the IRO monitoring form's name for the meeting (sources.md: ICPC, CP
-- review, CLA review). person_id of a CLA review: clar_cla_person_id when extracted,
-- else its period of care's child (sql/common/cla_periods_of_care.sql, as SAF18).
-- The participation codes are not carried (IRO04 reads them by the review's id), so
-- that a failure on them withholds IRO04 alone.
-- Grain: one row per review held in the period. Parameters: :period_start, :period_end.
select
    r.clar_cla_review_id as meeting_id,
    'CLA review' as meeting_type,
    coalesce(r.clar_cla_person_id, p.person_id) as person_id,
    r.clar_cla_review_date as meeting_date
from ssd_cla_reviews as r
left join cla_periods_of_care as p on p.cla_id = r.clar_cla_id
where r.clar_cla_review_date between :period_start and :period_end
  and coalesce(r.clar_cla_review_cancelled, '') <> 'Y'

union all

select
    r.cppr_cp_review_id as meeting_id,
    'CP review' as meeting_type,
    r.cppr_person_id as person_id,
    r.cppr_cp_review_date as meeting_date
from ssd_cp_reviews as r
where r.cppr_cp_review_date between :period_start and :period_end
