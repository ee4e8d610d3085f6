-- The audits completed in the period with the practice domains of their findings
-- (QA12, QA13), from the optional qa_audit_findings table (sources.md).
-- One row per audit completed in the period and domain it has findings in; an audit
-- with no finding has one row with an empty domain. has_strength / has_development: 1
-- when the audit has at least one `strength` / `area_for_development` finding in that
-- domain (finding types compared trimmed, in lower case, spaces read as underscores).
-- A finding with no domain still makes the audit one "with at least one" finding of
-- its type, in no domain's figure.
-- Parameters: :period_start, :period_end.
with completed_in_period as (
    select audit_id, person_id, team_id, auditor_id, service_area
    from qa_audits
    where completed_date between :period_start and :period_end
),

domain_findings as (
    select
        audit_id,
        domain,
        max(case when replace(lower(trim(finding_type)), ' ', '_') = 'strength' then 1 else 0 end)
            as has_strength,
        max(case when replace(lower(trim(finding_type)), ' ', '_') = 'area_for_development' then 1 else 0 end)
            as has_development
    from qa_audit_findings
    group by audit_id, domain
)

select
    a.audit_id,
    a.person_id,
    a.team_id,
    a.auditor_id,
    a.service_area,
    f.domain,
    coalesce(f.has_strength, 0) as has_strength,
    coalesce(f.has_development, 0) as has_development
from completed_in_period as a
left join domain_findings as f on f.audit_id = a.audit_id
