-- Learning actions raised, completed and overdue, by source (complaint, audit, drp,
-- review; complaints report, issue 15). kpis.md defines only the overdue count (CMP07:
-- "learning actions open at period_end with due_date < period_end"); the rules here:
-- - raised: raised_date in period;
-- - completed: completed_date in period (an action completed after period_end is not
--   completed yet, kpis.md "As at");
-- - overdue: CMP07's rule exactly (open at period_end: raised_date <= period_end and
--   completed_date empty or after period_end; due_date < period_end, strictly), so the
--   sources' overdue counts add up to CMP07.
-- Source trimmed and lower-cased; empty = 'not recorded'.
-- Grain: one row per source with its three counts. Parameters: :period_start, :period_end.
with actions as (
    select
        coalesce(nullif(lower(trim(source)), ''), 'not recorded') as source,
        case when raised_date between :period_start and :period_end then 1 else 0 end as raised,
        case when completed_date between :period_start and :period_end then 1 else 0 end as completed,
        case
            when raised_date <= :period_end
                and (completed_date is null or completed_date > :period_end)
                and due_date < :period_end then 1
            else 0
        end as overdue
    from learning_actions
),

final as (
    select
        source as name,
        sum(raised) as raised,
        sum(completed) as completed,
        sum(overdue) as overdue
    from actions
    group by source
    having sum(raised) + sum(completed) + sum(overdue) > 0
)

select * from final
