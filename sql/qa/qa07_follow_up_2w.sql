-- QA07 Follow-up within 2 weeks %.
-- Definition (kpis.md): "of audits completed in the month before the period: % with
-- follow_up_completed_date <= completed_date + 14 days". Binding: "14 days is within,
-- 15 is not". A follow-up dated after period_end does not exist yet; a missing one
-- counts in the denominator only. days_between via calendar.day_number.
-- Grain: one row per audit completed in the previous month; measure = days to follow-up.
-- flag_actions_completed / flag_actions_partly_completed (QA07:actions_completed,
-- QA07:actions_partly_completed, the "actions completed" of QA on a page): followed up on
-- or before period_end and actions_completed Y (any Y spelling of kpis.md) or Partial.
-- team_id = the audit's team; worker_id = the auditor. Registry: attribution record.
-- Parameters: :prev_month_start, :prev_month_end, :period_end, :follow_up_days
-- (configuration, default 14).
with completed_last_month as (
    select *
    from qa_audits
    where completed_date between :prev_month_start and :prev_month_end
),

final as (
    select
        a.audit_id as record_id,
        a.person_id,
        a.team_id,
        a.auditor_id as worker_id,
        case when a.follow_up_completed_date <= :period_end
              and follow_up.day_number - completed.day_number <= :follow_up_days
             then 1 else 0 end as in_numerator,
        follow_up.day_number - completed.day_number as measure,
        case when a.follow_up_completed_date <= :period_end
              and upper(trim(a.actions_completed)) in ('Y', 'YES', '1', 'TRUE')
             then 1 else 0 end as flag_actions_completed,
        case when a.follow_up_completed_date <= :period_end
              and upper(trim(a.actions_completed)) = 'PARTIAL'
             then 1 else 0 end as flag_actions_partly_completed,
        a.service_area,
        a.auditor_role,
        a.completed_date,
        a.follow_up_completed_date
    from completed_last_month as a
    left join calendar as completed on completed.cal_date = a.completed_date
    left join calendar as follow_up on follow_up.cal_date = a.follow_up_completed_date
)

select * from final
