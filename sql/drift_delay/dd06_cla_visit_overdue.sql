-- DD06 CLA visit overdue (exception list).
-- Definition (kpis.md): "the SAF19 denominator rows that are not in its numerator".
-- It reads SAF19's rows (sql/safety/saf19_cla_visits_6w.sql, one per child in its
-- denominator, measure = days since the last seen visit on or before period_end, or
-- since entered_care_date when there is none).
-- Grain: one row per overdue child (record_id = person id). Shown on the list (registry
-- list_columns): SAF19's entered_care, last_visit, due_date, and overdue = days past
-- the due date (measure - 42). Parameters: :period_end.
with final as (
    select
        record_id, person_id, team_id, worker_id, 1 as in_numerator, measure,
        entered_care, last_visit, due_date, measure - 42 as overdue
    from saf19_cla_visits_6w
    where in_numerator = 0
)

select * from final
