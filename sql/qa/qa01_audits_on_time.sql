-- QA01 Audits completed on time %.
-- Definition (kpis.md): "of audits due in period (due_date in period): % with
-- completed_date <= due_date". An audit not completed (or with no completed date)
-- counts in the denominator only; due_date <= period_end, so a completion after
-- period_end is never on time.
-- Grain: one row per audit due in the period (every audit_type, re-audits included).
-- team_id = the audit's team_id (the case's team); worker_id = the auditor.
-- Registry: attribution record.
-- Parameters: :period_start, :period_end.
with due_in_period as (
    select *
    from qa_audits
    where due_date between :period_start and :period_end
),

final as (
    select
        audit_id as record_id,
        person_id,
        team_id,
        auditor_id as worker_id,
        case when completed_date <= due_date then 1 else 0 end as in_numerator,
        audit_type,
        auditor_role,
        service_area,
        theme,
        due_date,
        completed_date
    from due_in_period
)

select * from final
