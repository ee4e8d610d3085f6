-- QA08 Stretch target recorded %.
-- Definition (kpis.md): "of audits completed in period: %
-- with stretch_target_set = Y (required on every audit, including Good and
-- Outstanding)". A flag that is not Y (N, empty, any other value) is not Y.
-- Grain: one row per audit completed in the period; team_id = the audit's team;
-- worker_id = the auditor. Registry: attribution record.
-- Parameters: :period_start, :period_end.
with completed_in_period as (
    select *
    from qa_audits
    where completed_date between :period_start and :period_end
),

final as (
    select
        audit_id as record_id,
        person_id,
        team_id,
        auditor_id as worker_id,
        case when stretch_target_set = 'Y' then 1 else 0 end as in_numerator,
        grade,
        service_area,
        auditor_role,
        completed_date
    from completed_in_period
)

select * from final
