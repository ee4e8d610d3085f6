-- SAF10 CP plans started.
-- Definition (kpis.md): "count of ssd_cp_plans with cp_plan_start_date in period".
-- Binding decisions: counts of a table count rows. ssd_cp_plans has no team or worker
-- column, so the record's own team and worker are NULL (attribution falls back to the
-- child's allocated worker, else Unallocated).
-- Grain: one row per CP plan with cppl_cp_plan_start_date in the period.
-- Parameters: :period_start, :period_end.
with started_in_period as (
    select *
    from ssd_cp_plans
    where cppl_cp_plan_start_date between :period_start and :period_end
),

final as (
    select
        cppl_cp_plan_id as record_id,
        cppl_person_id as person_id,
        cast(null as varchar(64)) as team_id,
        cast(null as varchar(64)) as worker_id,
        1 as in_numerator
    from started_in_period
)

select * from final
