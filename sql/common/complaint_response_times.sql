-- The working days from receipt to response of the complaints responded to in the
-- period (sql/common/complaints_responded.sql), for CMP02 and CMP03.
-- Binding decisions (CMP02/CMP03): "working days run from received_date to
-- response_date". A complaint with no received date stays in the population with no
-- working days (kpis.md "Missing dates": in the denominator, never in the numerator).
-- working_days_between(a, b) = wd(b) - wd(a), from `calendar`. `extended` is a Y/N flag
-- normalised on load: is_extended = 1 when it is Y.
-- Grain: one row per complaint responded to in the period.
-- Parameters: :period_start, :period_end.
select
    c.*,
    case when coalesce(c.extended, '') = 'Y' then 1 else 0 end as is_extended,
    responded.wd_index - received.wd_index as response_working_days
from complaints_responded as c
left join calendar as received on received.cal_date = c.received_date
left join calendar as responded on responded.cal_date = c.response_date
