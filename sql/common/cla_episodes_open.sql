-- CLA episodes open at period_end: "looked after at period_end" (SAF16, SAF19, SAF20,
-- SAF21, DD06, DD07, DD09, DD01, DD11, the audit cohort).
-- Binding decisions: "SAF16 uses the episode start and ceased dates". Open = start <=
-- period_end and (ceased empty or ceased > period_end); a ceased date equal to
-- period_end means closed. An episode with no start date cannot be shown to be open.
-- Every column of ssd_cla_episodes: a reader reads the columns it names.
-- Grain: one row per episode. Parameters: :period_end.
select *
from ssd_cla_episodes
where clae_cla_episode_start_date <= :period_end
  and (clae_cla_episode_ceased_date is null or clae_cla_episode_ceased_date > :period_end)
