-- QA05 Moderation agreement %.
-- Definition (kpis.md): "of moderations in period: % where the moderated grade equals
-- the auditor's grade; also count moderated up and moderated down". Binding: "an empty
-- moderated grade is 'not agreed' and neither up nor down (order: Inadequate <
-- Requires improvement < Good < Outstanding)". A grade outside that order (or an
-- audit with no grade) is neither up nor down.
-- Grain: one row per moderation dated in the period; team_id = the audit's team;
-- worker_id = the auditor whose grade was moderated. Registry: attribution record.
-- Parameters: :period_start, :period_end.
with moderations_in_period as (
    select *
    from qa_moderations
    where moderated_date between :period_start and :period_end
),

grade_order as (
    select 'Inadequate' as grade, 1 as position
    union all select 'Requires improvement', 2
    union all select 'Good', 3
    union all select 'Outstanding', 4
),

final as (
    select
        m.moderation_id as record_id,
        a.person_id,
        a.team_id,
        a.auditor_id as worker_id,
        case when m.moderated_grade = a.grade then 1 else 0 end as in_numerator,
        case when moderated.position > audited.position then 1 else 0 end as flag_moderated_up,
        case when moderated.position < audited.position then 1 else 0 end as flag_moderated_down,
        m.audit_id,
        a.grade as audit_grade,
        m.moderated_grade,
        m.moderator_id,
        a.service_area,
        m.moderated_date
    from moderations_in_period as m
    left join qa_audits as a on a.audit_id = m.audit_id
    left join grade_order as audited on audited.grade = a.grade
    left join grade_order as moderated on moderated.grade = m.moderated_grade
)

select * from final
