-- CIN episodes open at period_end and not NFA (DD09, DD01, DD11, the audit cohort).
-- Open = "start <= period_end and (end empty or end > period_end)", the episode running
-- from cine_referral_date to cine_close_date; NFA = cine_referral_nfa is Y.
-- Every column of ssd_cin_episodes: a reader reads the columns it names.
-- Grain: one row per CIN episode (referral). Parameters: :period_end.
select *
from ssd_cin_episodes
where cine_referral_date <= :period_end
  and (cine_close_date is null or cine_close_date > :period_end)
  and coalesce(cine_referral_nfa, '') <> 'Y'
