-- QA03 Audit grades.
-- Definition (kpis.md): "of audits completed in period: count and % Outstanding, Good,
-- Requires improvement, Inadequate; also rolling 3 months". Binding: "audits with no
-- grade stay in the denominator"; "Rolling 3 months" = the 3 calendar months ending
-- with the period month.
-- Grain: one row per audit completed in the rolling 3 months; in_numerator = 1 when
-- completed in the period month (the headline count). Registry extras: grade=<grade>
-- (share of in-period rows), rolling_3m (all rows), rolling_3m:grade=<grade>.
-- team_id = the audit's team; worker_id = the auditor. Registry: attribution record.
-- Parameters: :rolling_3m_start, :period_start, :period_end.
with completed_3m as (
    select *
    from qa_audits
    where completed_date between :rolling_3m_start and :period_end
),

final as (
    select
        audit_id as record_id,
        person_id,
        team_id,
        auditor_id as worker_id,
        case when completed_date >= :period_start then 1 else 0 end as in_numerator,
        grade,
        theme,
        service_area,
        audit_type,
        auditor_role,
        completed_date
    from completed_3m
)

select * from final
