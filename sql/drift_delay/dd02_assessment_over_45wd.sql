-- DD02 Assessment open over 45 working days.
-- Definition (kpis.md): "assessment with start_date <= period_end, no auth_date on or
-- before period_end, and working_days_between(start_date, period_end) > 45".
-- Binding decisions: "DD02 applies to every assessment with no authorisation as at
-- period_end, even if the referral has closed"; "An authorisation after period_end
-- leaves the assessment open". working_days_between(a, b) = wd(b) - wd(a), from
-- `calendar` (weekends and England bank holidays are not working days).
-- Grain: one row per exception (assessment); measure = working days since start.
-- Shown on the list (registry list_columns): assessment_start, due_date (the 45th
-- working day after the start) and overdue (working days past it = measure - 45).
-- Parameters: :period_end.
with period_end_day as (
    select wd_index
    from calendar
    where cal_date = :period_end
),

open_assessments as (
    select *
    from ssd_cin_assessments
    where cina_assessment_start_date <= :period_end
      and (cina_assessment_auth_date is null or cina_assessment_auth_date > :period_end)
),

working_days_open as (
    select
        a.*,
        pe.wd_index - start.wd_index as working_days,
        due.cal_date as due_date
    from open_assessments as a
    inner join calendar as start on start.cal_date = a.cina_assessment_start_date
    cross join period_end_day as pe
    left join calendar as due on due.wd_index = start.wd_index + 45 and due.is_working_day = 1
),

final as (
    select
        cina_assessment_id as record_id,
        cina_person_id as person_id,
        cina_assessment_team as team_id,
        cina_assessment_worker_id as worker_id,
        1 as in_numerator,
        working_days as measure,
        cina_assessment_start_date as assessment_start,
        due_date,
        working_days - 45 as overdue
    from working_days_open
    where working_days > 45
)

select * from final
