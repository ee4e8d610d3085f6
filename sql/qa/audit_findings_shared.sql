-- The findings of the audits completed in the period, with their summaries and share
-- flags, for the "Audit findings" sections of the monthly QA report and QA on a page
-- (tasks/reports/findings.py decides which summaries may be shown: share Y, no names
-- or ids). Parameters: :period_start, :period_end.
select
    f.finding_id,
    f.audit_id,
    f.domain,
    f.finding_type,
    f.summary,
    f.share
from qa_audit_findings as f
inner join qa_audits as a on a.audit_id = f.audit_id
where a.completed_date between :period_start and :period_end
order by f.finding_id
