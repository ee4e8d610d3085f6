-- SAF12 Children on a CP plan at month end.
-- Definition (kpis.md): "distinct children with a CP plan open at period_end; also
-- published as a rate per 10,000".
-- Binding decisions: open = start <= period_end and (end empty or end > period_end);
-- an end date equal to period_end means closed, one after it leaves the plan open
-- (sql/common/cp_plans_open.sql).
-- Counts of children are distinct person_ids (a plan with no person_id is no child).
-- ssd_cp_plans has no team or worker column: team_id and worker_id are NULL. The
-- rate_per_10k extra divides the row count by the population 0-17 in compute.py.
-- Grain: one row per child (record_id = person_id).
-- Parameters: :period_end.
with children_on_plan as (
    select distinct cppl_person_id as person_id
    from cp_plans_open
    where cppl_person_id is not null
),

final as (
    select
        person_id as record_id,
        person_id,
        cast(null as varchar(64)) as team_id,
        cast(null as varchar(64)) as worker_id,
        1 as in_numerator
    from children_on_plan
)

select * from final
