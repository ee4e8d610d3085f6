-- Complaints responded to in the period, with the working days from receipt to
-- response (CMP02, CMP03, CMP04).
-- Binding decisions (CMP02/CMP03/CMP04): "withdrawn complaints with a response are
-- included; working days run from received_date to response_date". A complaint with no
-- received date stays in the population with no working days (kpis.md "Missing dates":
-- in the denominator, never in the numerator). working_days_between(a, b) =
-- wd(b) - wd(a), from `calendar`. `extended` is a Y/N flag normalised on load.
-- Grain: one row per complaint with response_date in the period (any stage).
-- Parameters: :period_start, :period_end.
select
    c.complaint_id,
    c.stage,
    c.person_id,
    c.team_id,
    c.service_area,
    c.outcome,
    case when coalesce(c.extended, '') = 'Y' then 1 else 0 end as is_extended,
    responded.wd_index - received.wd_index as response_working_days
from complaints as c
left join calendar as received on received.cal_date = c.received_date
left join calendar as responded on responded.cal_date = c.response_date
where c.response_date between :period_start and :period_end
