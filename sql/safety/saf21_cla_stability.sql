-- SAF21 CLA long-term placement stability %.
-- Definition (kpis.md): "denominator: children looked after at period_end, aged under
-- 16 at period_end, with entered_care_date <= period_end - 913 days and no gap in care
-- since; numerator: those whose placement open at period_end started on or before
-- period_end - 730 days".
-- Binding decisions:
-- - looked after at period_end = a CLA episode open at period_end (start <= period_end
--   and ceased empty or > period_end).
-- - "Several open CLA episodes for one child at period_end (a recording error; the
--   validation warns): the child's current episode is the open one with the latest
--   start (ties: highest episode id), and the child's period of care began on the
--   earliest clae_entered_care_date among the open episodes (SAF19, SAF21, DD06, DD07)".
--   So entered_care_date (the 913-day test and the start of the no-gap test) is the
--   earliest clae_entered_care_date among the child's open episodes (with one open
--   episode, its own); closed episodes do not set it.
-- - Age = completed years on period_end (a 29 February birthday is reached on 1 March):
--   under 16 means pers_dob > :dob_16y.
-- - "no gap in care" means the child's episodes cover every day from the open
--   episode's entry date to period_end (the next episode starts on or before the day
--   the previous one ceased): from entered_care_date above. Only episodes with a start
--   date count as cover.
-- - "the current placement is the one open at period_end (the latest start if
--   several)"; placements join by clap_person_id.
-- - Missing dates: age, entry date and continuity decide who is in the population,
--   they are not the KPI's test. A child with no date of birth (or no ssd_person row)
--   or no entry date cannot be shown to belong to the population and is left out.
--   A child in the population with no open placement, or whose open placement has no
--   start date, counts in the denominator and never in the numerator.
-- Grain: one row per child (record_id = person_id).
-- Team/worker: neither table has a team or worker column (NULL; the framework uses
-- the child's allocated worker).
-- Parameters: :period_end, :dob_16y.
with period_end_day as (
    select day_number
    from calendar
    where cal_date = :period_end
),

-- One row per child looked after, with the day the child's period of care began
-- (sql/common/cla_current_episodes.sql).
children_looked_after as (
    select clae_person_id as person_id, care_began as entered_care_date
    from cla_current_episodes
),

-- Every episode that could cover a day in [entered_care_date, period_end], with the
-- last day it covers up to period_end (an empty or later ceased date: period_end).
covering_episodes as (
    select
        c.person_id,
        c.entered_care_date,
        e.clae_cla_episode_start_date as start_date,
        case
            when e.clae_cla_episode_ceased_date is null
                 or e.clae_cla_episode_ceased_date > :period_end then :period_end
            else e.clae_cla_episode_ceased_date
        end as covered_to,
        e.clae_cla_episode_id as episode_id
    from children_looked_after as c
    join ssd_cla_episodes as e on e.clae_person_id = c.person_id
    where e.clae_cla_episode_start_date <= :period_end
      and (e.clae_cla_episode_ceased_date is null
           or e.clae_cla_episode_ceased_date >= c.entered_care_date)
),

episodes_with_cover_before as (
    select
        person_id,
        entered_care_date,
        start_date,
        max(covered_to) over (
            partition by person_id
            order by start_date, episode_id
            rows between unbounded preceding and 1 preceding
        ) as covered_before
    from covering_episodes
),

-- A gap: cover starts after the entry date, or an episode starts after every earlier
-- episode has ceased.
children_with_gap as (
    select person_id
    from episodes_with_cover_before
    group by person_id, entered_care_date
    having min(start_date) > entered_care_date
        or sum(case when start_date > covered_before then 1 else 0 end) > 0
),

denominator as (
    select c.person_id
    from children_looked_after as c
    join ssd_person as p on p.pers_person_id = c.person_id
    join calendar as entered on entered.cal_date = c.entered_care_date
    cross join period_end_day as pe
    where p.pers_dob > :dob_16y
      and entered.day_number <= pe.day_number - 913
      and not exists (select 1 from children_with_gap as g where g.person_id = c.person_id)
),

open_placements as (
    select
        clap_person_id as person_id,
        clap_cla_placement_start_date as start_date,
        row_number() over (
            partition by clap_person_id
            order by clap_cla_placement_start_date desc, clap_cla_placement_id desc
        ) as recency
    from ssd_cla_placement
    where clap_cla_placement_start_date <= :period_end
      and (clap_cla_placement_end_date is null or clap_cla_placement_end_date > :period_end)
),

current_placements as (
    select person_id, start_date
    from open_placements
    where recency = 1
),

final as (
    select
        d.person_id as record_id,
        d.person_id,
        cast(null as varchar(64)) as team_id,
        cast(null as varchar(64)) as worker_id,
        case when placed.day_number <= pe.day_number - 730 then 1 else 0 end as in_numerator,
        pe.day_number - placed.day_number as measure
    from denominator as d
    cross join period_end_day as pe
    left join current_placements as cp on cp.person_id = d.person_id
    left join calendar as placed on placed.cal_date = cp.start_date
)

select * from final
