-- DD03 S47 with no ICPC after 15 working days.
-- Definition (kpis.md): "S47 with start_date <= period_end, not NFA, no ICPC linked to
-- it on or before period_end, and working_days_between(start, period_end) > 15,
-- excluding enquiries whose s47_end_date is on or before period_end with an outcome of
-- no further action".
-- Binding decisions: "DD03: an enquiry is NFA only when s47_nfa is Y and
-- s47_end_date <= period_end"; "an S47 whose NFA end date is after it is not NFA yet";
-- "SAF09: the S47 is linked only through icpc_s47_enquiry_id". An ICPC dated after
-- period_end (or undated) has not happened yet.
-- Grain: one row per exception (S47 enquiry); measure = working days since S47 start.
-- Shown on the list (registry list_columns): s47_start, due_date (the 15th working day
-- after the start) and overdue (working days past it = measure - 15).
-- Parameters: :period_end.
with period_end_day as (
    select wd_index
    from calendar
    where cal_date = :period_end
),

started_not_nfa as (
    select *
    from ssd_s47_enquiry
    where s47e_s47_start_date <= :period_end
      and (coalesce(s47e_s47_nfa, '') <> 'Y'
           or s47e_s47_end_date is null
           or s47e_s47_end_date > :period_end)
),

icpcs_held as (
    select distinct icpc_s47_enquiry_id as s47_enquiry_id
    from ssd_initial_cp_conference
    where icpc_icpc_date <= :period_end
      and icpc_s47_enquiry_id is not null
),

without_icpc as (
    select
        s.*,
        pe.wd_index - start.wd_index as working_days,
        due.cal_date as due_date
    from started_not_nfa as s
    inner join calendar as start on start.cal_date = s.s47e_s47_start_date
    cross join period_end_day as pe
    left join calendar as due on due.wd_index = start.wd_index + 15 and due.is_working_day = 1
    left join icpcs_held as i on i.s47_enquiry_id = s.s47e_s47_enquiry_id
    where i.s47_enquiry_id is null
),

final as (
    select
        s47e_s47_enquiry_id as record_id,
        s47e_person_id as person_id,
        s47e_s47_completed_by_team as team_id,
        s47e_s47_completed_by_worker_id as worker_id,
        1 as in_numerator,
        working_days as measure,
        s47e_s47_start_date as s47_start,
        due_date,
        working_days - 15 as overdue
    from without_icpc
    where working_days > 15
)

select * from final
