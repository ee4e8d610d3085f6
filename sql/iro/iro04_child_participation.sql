-- IRO04 Child participation in reviews %.
-- Definition (kpis.md): "of CLA reviews (not cancelled) and CP reviews held in period
-- whose participation code (from clar_cla_review_participation /
-- cppr_cp_review_participation) is one of PN1-PN7: % with PN1-PN6 (the child attended or
-- conveyed their views). PN0 (under 4) and any other value are outside both numerator
-- and denominator".
-- Binding decisions: participation codes outside PN1-PN7 are data-quality warnings,
-- "the definition says where such a row counts" (here: nowhere). Codes are compared
-- trimmed and in upper case (' pn3' is PN3).
-- Reviews held in the period: sql/common/review_meetings.sql (IRO05); their codes by id.
-- Grain: one row per review held in the period with a code PN1-PN7. The review tables
-- carry no team or worker: the child's allocated worker attributes it.
-- Parameters: :period_start, :period_end.
with reviews as (
    select
        m.meeting_id,
        m.meeting_type,
        m.person_id,
        upper(trim(coalesce(cla.clar_cla_review_participation, cp.cppr_cp_review_participation)))
            as participation_code
    from review_meetings as m
    left join ssd_cla_reviews as cla
        on m.meeting_type = 'CLA review' and cla.clar_cla_review_id = m.meeting_id
    left join ssd_cp_reviews as cp
        on m.meeting_type = 'CP review' and cp.cppr_cp_review_id = m.meeting_id
),

coded_reviews as (
    select *
    from reviews
    where participation_code in ('PN1', 'PN2', 'PN3', 'PN4', 'PN5', 'PN6', 'PN7')
),

final as (
    select
        meeting_id as record_id,
        person_id,
        cast(null as varchar(64)) as team_id,
        cast(null as varchar(64)) as worker_id,
        case when participation_code = 'PN7' then 0 else 1 end as in_numerator,
        meeting_type,
        participation_code
    from coded_reviews
)

select * from final
