-- DD11 Three or more social workers in 12 months.
-- Definition (kpis.md): "child open at period_end with 3 or more distinct allocated
-- workers whose involvement overlapped the rolling 12 months".
-- Binding decisions: "DD01 and DD11: 'allocated' means an open involvement with the
-- allocated case worker role for the child, on any referral; other roles (IRO, personal
-- adviser) do not count." "DD11: an involvement overlaps the window when it starts on or
-- before period_end and ends (if at all) on or after the window's first day." Rolling
-- 12 months = [period_end - 364, period_end]. A child is open as in DD01: an open CIN
-- episode (not NFA), CP plan or CLA episode at period_end (sql/common/children_open.sql);
-- allocated: sql/common/allocated_involvements.sql.
-- Grain: one row per exception (child, record_id = person_id); measure = number of
-- distinct allocated workers. No team or worker on the record (the child's allocated
-- worker attributes it).
-- Shown on the list (registry list_columns): latest_worker_start (the latest start of
-- those involvements: the last change of worker).
-- Parameters: :period_end, :rolling_12m_start, :allocated_role.
with workers_in_window as (
    select
        invo_person_id as person_id,
        count(distinct invo_professional_id) as workers,
        max(invo_involvement_start_date) as latest_worker_start
    from allocated_involvements
    where invo_involvement_start_date <= :period_end
      and (invo_involvement_end_date is null or invo_involvement_end_date >= :rolling_12m_start)
    group by invo_person_id
),

final as (
    select
        c.person_id as record_id,
        c.person_id,
        cast(null as varchar(64)) as team_id,
        cast(null as varchar(64)) as worker_id,
        1 as in_numerator,
        w.workers as measure,
        w.latest_worker_start
    from children_open as c
    inner join workers_in_window as w on w.person_id = c.person_id
    where w.workers >= 3
)

select * from final
