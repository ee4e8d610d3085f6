-- QA02 Audit compliance by auditor: the input rows of the schedule rule.
-- Definition (kpis.md): "of staff in post at period_end whose role has an audit
-- requirement (qa_staff.role): % who completed what the schedule requires in its
-- window ... Team Managers' audits count only for cases whose team_id is not their own
-- team. Heads of Service are measured by QA06, not here".
-- The per-role schedule is configuration (tasks/qa.py, settings [qa.requirements]), so
-- this query returns one row per staff member in post at period_end and audit they
-- completed on or before period_end (staff with none: one row with empty audit
-- columns); the registry's postprocess hook tasks.qa:qa02_compliance applies the
-- schedule and returns the contract rows (one per staff member with a requirement;
-- record_id = worker_id = staff_id, team_id = the staff member's team, measure = the
-- shortfall). In post = start_date <= period_end and (end_date empty or > period_end).
-- Parameters: :period_end.
with staff_in_post as (
    select
        staff_id,
        name as staff_name,
        role,
        team_id as staff_team_id,
        service_area as staff_service_area
    from qa_staff
    where start_date <= :period_end
      and (end_date is null or end_date > :period_end)
),

audits_completed as (
    select
        audit_id,
        auditor_id,
        audit_type,
        team_id as audit_team_id,
        completed_date
    from qa_audits
    where completed_date <= :period_end
),

final as (
    select
        s.staff_id,
        s.staff_name,
        s.role,
        s.staff_team_id,
        s.staff_service_area,
        a.audit_id,
        a.audit_type,
        a.audit_team_id,
        a.completed_date
    from staff_in_post as s
    left join audits_completed as a on a.auditor_id = s.staff_id
)

select * from final
