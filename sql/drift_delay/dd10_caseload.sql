-- DD10 Caseload above threshold.
-- Definition (kpis.md): "worker whose count of distinct children with an open
-- allocated-worker involvement at period_end exceeds the configured threshold (default
-- 20); also publish the mean caseload per team".
-- Binding decisions: "DD10: more than the threshold (exactly the threshold is not an
-- exception); the mean caseload is over workers with at least one open allocated
-- involvement." Open and allocated: sql/common/allocated_involvements_open.sql.
-- Grain: one row per worker with at least one open allocated involvement (the
-- population of the mean, DD10:mean_caseload = mean of measure); record_id = worker_id =
-- the worker; team_id = the team of the worker's latest-started open allocated
-- involvement (ties: highest id); measure = caseload; in_numerator = 1 when the
-- caseload exceeds the threshold. Registry: attribution record.
-- Parameters: :period_end, :allocated_role, :caseload_threshold.
with open_allocations as (
    select
        invo_professional_id as worker_id,
        invo_professional_team as team_id,
        invo_person_id as person_id,
        row_number() over (
            partition by invo_professional_id
            order by invo_involvement_start_date desc, invo_involvements_id desc
        ) as recency
    from allocated_involvements_open
    where invo_professional_id is not null
),

caseloads as (
    select
        worker_id,
        count(distinct person_id) as children
    from open_allocations
    group by worker_id
),

worker_teams as (
    select worker_id, team_id
    from open_allocations
    where recency = 1
),

final as (
    select
        c.worker_id as record_id,
        cast(null as varchar(64)) as person_id,
        t.team_id,
        c.worker_id,
        case when c.children > :caseload_threshold then 1 else 0 end as in_numerator,
        c.children as measure
    from caseloads as c
    inner join worker_teams as t on t.worker_id = c.worker_id
)

select * from final
