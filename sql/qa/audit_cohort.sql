-- The cohort of relevant children for the monthly audit allocation (not a KPI; see
-- tasks/kpis/qa.py::audit_cohort). Children open at period_end: an open CIN episode
-- that is not NFA, an open CP plan or an open CLA episode (sql/common/
-- cin_episodes_open.sql, cp_plans_open.sql, cla_episodes_open.sql), each with the
-- characteristics a theme may match (CIN primary need, CP category, CLA primary need)
-- and the team and worker of the child's allocated worker (sql/common/allocation.sql),
-- else the team on the CIN referral (and no worker).
-- Grain: one row per child and open record. Parameters: :period_end, :allocated_role.
with open_cin as (
    select
        cine_person_id as person_id,
        cine_referral_team as record_team_id,
        'CIN' as open_as,
        cine_cin_primary_need_code as characteristics
    from cin_episodes_open
),

open_cp as (
    select
        cppl_person_id as person_id,
        cast(null as varchar(64)) as record_team_id,
        'CP' as open_as,
        coalesce(cppl_cp_plan_latest_category, cppl_cp_plan_initial_category) as characteristics
    from cp_plans_open
),

open_cla as (
    select
        clae_person_id as person_id,
        cast(null as varchar(64)) as record_team_id,
        'CLA' as open_as,
        clae_cla_primary_need_code as characteristics
    from cla_episodes_open
),

open_children as (
    select * from open_cin
    union all select * from open_cp
    union all select * from open_cla
),

final as (
    select
        c.person_id,
        coalesce(a.team_id, c.record_team_id) as team_id,
        a.worker_id,
        c.open_as,
        c.characteristics
    from open_children as c
    left join allocation as a on a.person_id = c.person_id
    where c.person_id is not null
)

select * from final
order by person_id, open_as
