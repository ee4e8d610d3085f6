-- QA12 Audit strengths by practice domain.
-- Definition (kpis.md): "of audits completed in period: count of audits with at least
-- one strength finding, by domain (sub-measure QA12:domain=<domain>); headline = audits
-- with any strength".
-- Audits and the domains of their findings: sql/common/audit_findings_by_domain.sql
-- (QA13). The rows are one per audit completed in the period and domain: in_numerator
-- (the headline count of audits) is 1 on one row of each audit with any strength,
-- flag_domain is 1 on each domain row with a strength (the registry's domain breakdown
-- counts flag_domain, so an audit counts once per domain and once in the headline).
-- team_id = the audit's team; worker_id = the auditor. Registry: attribution record.
-- Parameters: :period_start, :period_end.
with ranked as (
    select
        f.*,
        max(has_strength) over (partition by audit_id) as audit_has_strength,
        row_number() over (partition by audit_id order by has_strength desc, domain) as domain_order
    from audit_findings_by_domain as f
),

final as (
    select
        audit_id as record_id,
        person_id,
        team_id,
        auditor_id as worker_id,
        case when audit_has_strength = 1 and domain_order = 1 then 1 else 0 end as in_numerator,
        has_strength as flag_domain,
        domain,
        service_area
    from ranked
)

select * from final
