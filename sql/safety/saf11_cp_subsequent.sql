-- SAF11 Second or subsequent CP plan %.
-- Definition (kpis.md): "of CP plans started in period: % where the child has any
-- other CP plan with an earlier cp_plan_start_date".
-- Binding decisions: any earlier plan, ever (a different plan id of the same child);
-- a plan starting the same day does not count (strictly earlier start date).
-- ssd_cp_plans has no team or worker column: team_id and worker_id are NULL.
-- Grain: one row per CP plan with cppl_cp_plan_start_date in the period.
-- Parameters: :period_start, :period_end.
with started_in_period as (
    select *
    from ssd_cp_plans
    where cppl_cp_plan_start_date between :period_start and :period_end
),

subsequent_plans as (
    select distinct p.cppl_cp_plan_id
    from started_in_period as p
    inner join ssd_cp_plans as earlier
        on earlier.cppl_person_id = p.cppl_person_id
        and earlier.cppl_cp_plan_id <> p.cppl_cp_plan_id
        and earlier.cppl_cp_plan_start_date < p.cppl_cp_plan_start_date
),

final as (
    select
        p.cppl_cp_plan_id as record_id,
        p.cppl_person_id as person_id,
        cast(null as varchar(64)) as team_id,
        cast(null as varchar(64)) as worker_id,
        case when s.cppl_cp_plan_id is not null then 1 else 0 end as in_numerator
    from started_in_period as p
    left join subsequent_plans as s on s.cppl_cp_plan_id = p.cppl_cp_plan_id
)

select * from final
