-- SAF20 CLA with 3 or more placements in 12 months %.
-- Definition (kpis.md): "of children looked after at period_end: % with 3 or more
-- placements whose placement_start_date is in the rolling 12 months".
-- Binding decisions: rolling 12 months = the 365 days [period_end - 364, period_end];
-- looked after at period_end = a CLA episode open at period_end (start <= period_end
-- and ceased empty or > period_end, as SAF16: sql/common/cla_episodes_open.sql); "placements join by clap_person_id;
-- distinct placement ids starting in the window count, across periods of care".
-- Grain: one row per child (record_id = person_id). measure = placements in window.
-- Team/worker: neither table has a team or worker column (NULL; the framework uses
-- the child's allocated worker).
-- Parameters: :rolling_12m_start, :period_end.
with children_looked_after as (
    select distinct clae_person_id as person_id
    from cla_episodes_open
),

placements_in_window as (
    select
        clap_person_id as person_id,
        count(distinct clap_cla_placement_id) as placements
    from ssd_cla_placement
    where clap_cla_placement_start_date between :rolling_12m_start and :period_end
    group by clap_person_id
),

final as (
    select
        c.person_id as record_id,
        c.person_id,
        cast(null as varchar(64)) as team_id,
        cast(null as varchar(64)) as worker_id,
        case when coalesce(p.placements, 0) >= 3 then 1 else 0 end as in_numerator,
        coalesce(p.placements, 0) as measure
    from children_looked_after as c
    left join placements_in_window as p on p.person_id = c.person_id
)

select * from final
