-- The cohort of relevant children for the monthly audit allocation (not a KPI; see
-- tasks/qa.py::audit_cohort). Children open at period_end: an open CIN episode that is
-- not NFA, an open CP plan or an open CLA episode (open = start <= period_end and end
-- empty or > period_end), each with the characteristics a theme may match (CIN primary
-- need, CP category, CLA primary need) and the team of the child's open allocated-
-- worker involvement (latest start), else the team on the CIN referral.
-- Grain: one row per child and open record. Parameters: :period_end, :allocated_role.
with open_cin as (
    select
        cine_person_id as person_id,
        cine_referral_team as record_team_id,
        'CIN' as open_as,
        cine_cin_primary_need_code as characteristics
    from ssd_cin_episodes
    where cine_referral_date <= :period_end
      and (cine_close_date is null or cine_close_date > :period_end)
      and (cine_referral_nfa is null or cine_referral_nfa <> 'Y')
),

open_cp as (
    select
        cppl_person_id as person_id,
        cast(null as varchar(64)) as record_team_id,
        'CP' as open_as,
        coalesce(cppl_cp_plan_latest_category, cppl_cp_plan_initial_category) as characteristics
    from ssd_cp_plans
    where cppl_cp_plan_start_date <= :period_end
      and (cppl_cp_plan_end_date is null or cppl_cp_plan_end_date > :period_end)
),

open_cla as (
    select
        clae_person_id as person_id,
        cast(null as varchar(64)) as record_team_id,
        'CLA' as open_as,
        clae_cla_primary_need_code as characteristics
    from ssd_cla_episodes
    where clae_cla_episode_start_date <= :period_end
      and (clae_cla_episode_ceased_date is null or clae_cla_episode_ceased_date > :period_end)
),

open_children as (
    select * from open_cin
    union all select * from open_cp
    union all select * from open_cla
),

allocations as (
    select
        invo_person_id as person_id,
        invo_professional_team as team_id,
        row_number() over (
            partition by invo_person_id
            order by invo_involvement_start_date desc, invo_involvements_id desc
        ) as recency
    from ssd_involvements
    where upper(trim(invo_professional_role_id)) = upper(trim(:allocated_role))
      and invo_involvement_start_date <= :period_end
      and (invo_involvement_end_date is null or invo_involvement_end_date > :period_end)
),

final as (
    select
        c.person_id,
        coalesce(a.team_id, c.record_team_id) as team_id,
        c.open_as,
        c.characteristics
    from open_children as c
    left join allocations as a on a.person_id = c.person_id and a.recency = 1
    where c.person_id is not null
)

select * from final
order by person_id, open_as
