-- SAF17 Children starting to be looked after.
-- Definition (kpis.md): "distinct children with clae_entered_care_date in period".
-- Binding decisions: "SAF17 counts distinct children whose clae_entered_care_date is
-- in the period" (a child with two episodes carrying such a date counts once).
-- Grain: one row per child (record_id = person_id).
-- Team/worker: ssd_cla_episodes has no team or worker column (NULL; the framework
-- uses the child's allocated worker).
-- Parameters: :period_start, :period_end.
with episodes_entering_care_in_period as (
    select clae_person_id as person_id
    from ssd_cla_episodes
    where clae_entered_care_date between :period_start and :period_end
),

children_starting as (
    select distinct person_id
    from episodes_entering_care_in_period
),

final as (
    select
        person_id as record_id,
        person_id,
        cast(null as varchar(64)) as team_id,
        cast(null as varchar(64)) as worker_id,
        1 as in_numerator
    from children_starting
)

select * from final
