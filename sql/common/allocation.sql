-- Allocation at period_end: each child's open allocated-worker involvement.
-- kpis.md: "Team / worker attribution for drill-down: the team and worker of the child's
-- open allocated-worker involvement (ssd_involvements, role = allocated case worker) at
-- period_end" (open and allocated: allocated_involvements_open.sql). The KPIs'
-- attribution (tasks/kpis/compute.py) and the audit cohort (qa/audit_cohort.sql) read it.
-- Grain: one row per child. Where several are open, the latest start (ties: highest id).
-- Parameters: :period_end, :allocated_role.
with open_allocations as (
    select
        invo_person_id as person_id,
        invo_professional_team as team_id,
        invo_professional_id as worker_id,
        row_number() over (
            partition by invo_person_id
            order by invo_involvement_start_date desc, invo_involvements_id desc
        ) as recency
    from allocated_involvements_open
),

final as (
    select person_id, team_id, worker_id
    from open_allocations
    where recency = 1
)

select * from final
