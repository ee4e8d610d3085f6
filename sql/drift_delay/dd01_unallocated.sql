-- DD01 Unallocated open case.
-- Definition (kpis.md): "child with an open CIN episode (not NFA), CP plan or CLA
-- episode at period_end and no open allocated-worker involvement; measure = days since
-- the latest of (referral date, last involvement end)".
-- Binding decisions: "DD01 and DD11: 'allocated' means an open involvement with the
-- allocated case worker role for the child, on any referral; other roles (IRO, personal
-- adviser) do not count. DD01 counts children." Open = "start <= period_end and (end
-- empty or end > period_end). An end date equal to period_end means closed."
-- Reading of the measure: the referral date is that of the child's current referral
-- (the latest open non-NFA CIN episode, else the latest referral on or before
-- period_end); the last involvement end is the latest end date, on or before
-- period_end, of the child's allocated-worker involvements. With neither, the measure
-- is empty. days_between(a, b) = day_number(b) - day_number(a), from `calendar`.
-- Open cases: sql/common/children_open.sql; allocated: sql/common/allocated_involvements.sql
-- and allocated_involvements_open.sql.
-- Grain: one row per exception (child, record_id = person_id). team_id = the current
-- referral's team; no worker (the child is unallocated). Shown on the list (registry
-- list_columns): referral_date (the current referral's), last_worker_end (the last
-- allocated-worker involvement's end).
-- The referrals and involvement ends are read for the unallocated children only (a
-- child's own rows decide its figures; reading every child's took most of the time).
-- Parameters: :period_end, :allocated_role.
with period_end_day as (
    select day_number
    from calendar
    where cal_date = :period_end
),

open_allocations as (
    select distinct invo_person_id as person_id
    from allocated_involvements_open
),

unallocated_children as (
    select c.person_id
    from children_open as c
    left join open_allocations as o on o.person_id = c.person_id
    where c.person_id is not null
      and o.person_id is null
),

cin_episodes_as_at as (
    select
        e.*,
        case
            when (e.cine_close_date is null or e.cine_close_date > :period_end)
                 and coalesce(e.cine_referral_nfa, '') <> 'Y' then 1
            else 0
        end as is_open_not_nfa
    from ssd_cin_episodes as e
    where e.cine_referral_date <= :period_end
      and e.cine_person_id in (select person_id from unallocated_children)
),

last_allocation_end as (
    select
        invo_person_id as person_id,
        max(invo_involvement_end_date) as last_end
    from allocated_involvements
    where invo_involvement_start_date <= :period_end
      and invo_involvement_end_date <= :period_end
      and invo_person_id in (select person_id from unallocated_children)
    group by invo_person_id
),

current_referrals as (
    select
        cine_person_id as person_id,
        cine_referral_date as referral_date,
        cine_referral_team as team_id,
        row_number() over (
            partition by cine_person_id
            order by is_open_not_nfa desc, cine_referral_date desc, cine_referral_id desc
        ) as recency
    from cin_episodes_as_at
),

unallocated_cases as (
    select
        u.person_id,
        r.team_id,
        r.referral_date,
        a.last_end as last_worker_end,
        case
            when r.referral_date is null then a.last_end
            when a.last_end is null then r.referral_date
            when a.last_end > r.referral_date then a.last_end
            else r.referral_date
        end as unallocated_since
    from unallocated_children as u
    left join last_allocation_end as a on a.person_id = u.person_id
    left join current_referrals as r on r.person_id = u.person_id and r.recency = 1
),

final as (
    select
        u.person_id as record_id,
        u.person_id,
        u.team_id,
        cast(null as varchar(64)) as worker_id,
        1 as in_numerator,
        pe.day_number - since.day_number as measure,
        u.referral_date,
        u.last_worker_end
    from unallocated_cases as u
    cross join period_end_day as pe
    left join calendar as since on since.cal_date = u.unallocated_since
)

select * from final
