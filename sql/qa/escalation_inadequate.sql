-- Escalation (not a KPI): audits graded Inadequate completed in [:since, :as_at] that
-- no earlier day's current daily list escalated (its kpi_records rows of kind
-- :escalation_record), each with the Head(s) of Service in post at :as_at for the
-- audit's service_area.
-- qa-activity.md: "an audit graded Inadequate appears in the next daily exception list
-- to the Head of Service, not only at month end". In post = start_date <= as_at and
-- (end_date empty or > as_at). An audit whose area has no Head of Service is listed
-- with empty head_of_service columns.
-- Grain: one row per audit and Head of Service. Parameters: :since, :as_at, :as_at_day
-- (the as-at day as YYYY-MM-DD, the daily runs' period id), :escalation_record.
with escalated_before as (
    select distinct r.record_id as audit_id
    from kpi_records as r
    inner join current_runs as c on c.run_id = r.run_id
    where c.flow = 'daily'
      and c.period < :as_at_day
      and r.kpi_id = :escalation_record
),

inadequate_audits as (
    select *
    from qa_audits
    where grade = 'Inadequate'
      and completed_date between :since and :as_at
      and audit_id not in (select audit_id from escalated_before)
),

heads_of_service as (
    select staff_id, name, service_area
    from qa_staff
    where role = 'Head of Service'
      and start_date <= :as_at
      and (end_date is null or end_date > :as_at)
),

final as (
    select
        a.audit_id,
        a.completed_date,
        a.grade,
        a.audit_type,
        a.theme,
        a.service_area,
        a.person_id,
        a.team_id,
        a.worker_id,
        a.auditor_id,
        a.auditor_role,
        h.staff_id as head_of_service_id,
        h.name as head_of_service_name
    from inadequate_audits as a
    left join heads_of_service as h on h.service_area = a.service_area
)

select * from final
order by completed_date, audit_id, head_of_service_id
