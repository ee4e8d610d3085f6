-- DD09 CIN episode open 2 years or more.
-- Definition (kpis.md): "CIN episode open at period_end, not NFA, with
-- days_between(referral_date, period_end) >= 730" ("2 years" = 730 days).
-- Binding decisions: "DD09 includes CIN episodes of children who are also on a CP plan
-- or looked after"; open = "start <= period_end and (end empty or end > period_end)",
-- the episode running from cine_referral_date to cine_close_date; NFA = cine_referral_nfa
-- is Y. days_between(a, b) = day_number(b) - day_number(a), from `calendar`.
-- Grain: one row per exception (CIN episode, i.e. referral); measure = days since
-- referral.
-- Parameters: :period_end.
with period_end_day as (
    select day_number
    from calendar
    where cal_date = :period_end
),

open_episodes as (
    select
        e.*,
        pe.day_number - referral.day_number as days_open
    from ssd_cin_episodes as e
    inner join calendar as referral on referral.cal_date = e.cine_referral_date
    cross join period_end_day as pe
    where e.cine_referral_date <= :period_end
      and (e.cine_close_date is null or e.cine_close_date > :period_end)
      and coalesce(e.cine_referral_nfa, '') <> 'Y'
),

final as (
    select
        cine_referral_id as record_id,
        cine_person_id as person_id,
        cine_referral_team as team_id,
        cine_referral_worker_id as worker_id,
        1 as in_numerator,
        days_open as measure
    from open_episodes
    where days_open >= 730
)

select * from final
