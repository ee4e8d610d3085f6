-- CMP07 Learning actions overdue.
-- Definition (kpis.md): "learning actions open at period_end with due_date < period_end".
-- Binding decisions: "Open (... learning actions ...): start <= period_end and (end empty
-- or end > period_end). An end date equal to period_end means closed": start =
-- raised_date, end = completed_date; a completion after period_end leaves it open. An
-- action with no raised date is not shown to be open; one with no due date is not
-- overdue. "due_date < period_end" is strict: due on period_end is not overdue.
-- Grain: one row per overdue action (an exception list); measure = days overdue at
-- period_end. worker_id = the action's owner; no team on the record.
-- Registry: attribution record.
-- Parameters: :period_end.
with period_end_day as (
    select day_number
    from calendar
    where cal_date = :period_end
),

open_actions as (
    select *
    from learning_actions
    where raised_date <= :period_end
      and (completed_date is null or completed_date > :period_end)
),

final as (
    select
        a.action_id as record_id,
        cast(null as varchar(64)) as person_id,
        cast(null as varchar(64)) as team_id,
        a.owner_id as worker_id,
        1 as in_numerator,
        pe.day_number - due.day_number as measure
    from open_actions as a
    inner join calendar as due on due.cal_date = a.due_date
    cross join period_end_day as pe
    where a.due_date < :period_end
)

select * from final
