-- SAF16 Children looked after at month end.
-- Definition (kpis.md): "distinct children with a CLA episode open at period_end; also
-- as a rate per 10,000" (SAF16:rate_per_10k is computed by the framework from the row
-- count and the population 0-17).
-- Binding decisions: "SAF16 uses the episode start and ceased dates". Open = start <=
-- period_end and (ceased empty or ceased > period_end); a ceased date equal to
-- period_end means closed, a ceased date after it has not happened yet (still open).
-- An episode with no start date cannot be shown to be open and is not counted
-- (sql/common/cla_episodes_open.sql).
-- Grain: one row per child (record_id = person_id).
-- Team/worker: ssd_cla_episodes has no team or worker column (NULL; the framework
-- uses the child's allocated worker).
-- Parameters: :period_end.
with children_looked_after as (
    select distinct clae_person_id as person_id
    from cla_episodes_open
),

final as (
    select
        person_id as record_id,
        person_id,
        cast(null as varchar(64)) as team_id,
        cast(null as varchar(64)) as worker_id,
        1 as in_numerator
    from children_looked_after
)

select * from final
