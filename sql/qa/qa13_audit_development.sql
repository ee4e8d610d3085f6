-- QA13 Audit areas for development by practice domain.
-- Definition (kpis.md): "as QA12 for area_for_development findings (QA13:domain=<domain>)",
-- that is: of audits completed in period, count of audits with at least one
-- area_for_development finding, by domain; headline = audits with any.
-- Audits and the domains of their findings: sql/common/audit_findings_by_domain.sql
-- (QA12). The rows are one per audit completed in the period and domain: in_numerator
-- (the headline count of audits) is 1 on one row of each audit with any area for development,
-- flag_domain is 1 on each domain row with one (the registry's domain breakdown
-- counts flag_domain, so an audit counts once per domain and once in the headline).
-- team_id = the audit's team; worker_id = the auditor. Registry: attribution record.
-- Parameters: :period_start, :period_end.
with ranked as (
    select
        f.*,
        max(has_development) over (partition by audit_id) as audit_has_development,
        row_number() over (partition by audit_id order by has_development desc, domain) as domain_order
    from audit_findings_by_domain as f
),

final as (
    select
        audit_id as record_id,
        person_id,
        team_id,
        auditor_id as worker_id,
        case when audit_has_development = 1 and domain_order = 1 then 1 else 0 end as in_numerator,
        has_development as flag_domain,
        domain,
        service_area
    from ranked
)

select * from final
