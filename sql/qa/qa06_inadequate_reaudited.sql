-- QA06 Inadequate cases re-audited %.
-- Definition (kpis.md): "of audits graded Inadequate with completed_date in the three
-- calendar months before the period month (for 2024-03: December 2023 to February
-- 2024): % with a re-audit (any audit whose original_audit_id is that audit) completed
-- on or before period_end".
-- Grain: one row per Inadequate audit completed in those 3 months; team_id = the
-- audit's team; worker_id = its auditor. Registry: attribution record.
-- Parameters: :prior_3m_start, :prev_month_end, :period_end.
with inadequate_audits as (
    select *
    from qa_audits
    where grade = 'Inadequate'
      and completed_date between :prior_3m_start and :prev_month_end
),

reaudited as (
    select distinct original_audit_id as audit_id
    from qa_audits
    where original_audit_id is not null
      and completed_date <= :period_end
),

final as (
    select
        a.audit_id as record_id,
        a.person_id,
        a.team_id,
        a.auditor_id as worker_id,
        case when r.audit_id is not null then 1 else 0 end as in_numerator,
        a.service_area,
        a.auditor_role,
        a.theme,
        a.completed_date
    from inadequate_audits as a
    left join reaudited as r on r.audit_id = a.audit_id
)

select * from final
