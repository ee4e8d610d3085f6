-- QA09 Submitted within 5 working days %.
-- Definition (kpis.md): "of audits completed in period: % with
-- working_days_between(due_date, submitted_date) <= 5 (submitted on or before due
-- counts as within)". A submission dated after period_end does not exist yet; a
-- missing due or submitted date counts in the denominator only.
-- working_days_between(a, b) = wd(b) - wd(a) from calendar.wd_index.
-- Grain: one row per audit completed in the period; measure = working days from due to
-- submission. team_id = the audit's team; worker_id = the auditor. Registry:
-- attribution record.
-- Parameters: :period_start, :period_end, :submission_wd (configuration, default 5).
with completed_in_period as (
    select *
    from qa_audits
    where completed_date between :period_start and :period_end
),

final as (
    select
        a.audit_id as record_id,
        a.person_id,
        a.team_id,
        a.auditor_id as worker_id,
        case when a.submitted_date <= :period_end
              and submitted.wd_index - due.wd_index <= :submission_wd
             then 1 else 0 end as in_numerator,
        submitted.wd_index - due.wd_index as measure,
        a.service_area,
        a.auditor_role,
        a.due_date,
        a.submitted_date
    from completed_in_period as a
    left join calendar as due on due.cal_date = a.due_date
    left join calendar as submitted on submitted.cal_date = a.submitted_date
)

select * from final
