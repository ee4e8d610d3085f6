-- IRO05 Monitoring forms completed %.
-- Definition (kpis.md): "of CLA reviews and CP conferences held in period: % with an IRO
-- monitoring form".
-- Binding decisions: "'CP conferences' are ICPCs (transfer-ins included) and CP
-- reviews; a form matches a meeting on meeting_type (ICPC, CP review, CLA review),
-- person_id and meeting_date exactly". CLA reviews held are those not cancelled.
-- Reviews held in the period: sql/common/review_meetings.sql (IRO04).
-- Grain: one row per meeting held in the period. ICPCs carry their team; the child's
-- allocated worker attributes the rest.
-- A meeting's form is looked up by the child (an index), not by listing every form.
-- Parameters: :period_start, :period_end.
with meetings as (
    select
        meeting_id,
        meeting_type,
        person_id,
        meeting_date,
        cast(null as varchar(64)) as team_id,
        cast(null as varchar(64)) as worker_id
    from review_meetings

    union all

    select
        icpc_icpc_id as meeting_id,
        'ICPC' as meeting_type,
        icpc_person_id as person_id,
        icpc_icpc_date as meeting_date,
        icpc_icpc_team as team_id,
        icpc_icpc_worker_id as worker_id
    from ssd_initial_cp_conference
    where icpc_icpc_date between :period_start and :period_end
),

final as (
    select
        m.meeting_id as record_id,
        m.person_id,
        m.team_id,
        m.worker_id,
        case when exists (
            select 1
            from iro_monitoring_forms as f
            where f.person_id = m.person_id
              and f.meeting_date = m.meeting_date
              and trim(f.meeting_type) = m.meeting_type
        ) then 1 else 0 end as in_numerator,
        m.meeting_type
    from meetings as m
)

select * from final
