-- Periods of care started by period_end, with their entry dates (SAF18, DD07).
-- Binding decisions (SAF18): "The period of care is clar_cla_id; its entry date is the
-- earliest clae_entered_care_date among that clae_cla_id's episodes starting on or
-- before period_end".
-- Grain: one row per period of care (cla_id). Parameters: :period_end.
select
    e.clae_cla_id as cla_id,
    min(e.clae_person_id) as person_id,
    min(e.clae_entered_care_date) as entry_date
from ssd_cla_episodes as e
where e.clae_cla_id is not null
  and e.clae_cla_episode_start_date <= :period_end
group by e.clae_cla_id
