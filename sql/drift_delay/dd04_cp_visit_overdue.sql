-- DD04 CP visit overdue (exception list).
-- Definition (kpis.md): "the SAF13 denominator rows that are not in its numerator;
-- measure = working days since the last seen visit (or since plan start)".
-- It reads SAF13's rows (sql/safety/saf13_cp_visits_10wd.sql, one per plan in its
-- denominator, measure = working days since the last seen visit or plan start).
-- Grain: one row per overdue CP plan (record_id = plan id). Shown on the list (registry
-- list_columns): SAF13's plan_start, last_visit, due_date, and overdue = working days
-- past the due date (measure - 10). Parameters: :period_end.
with final as (
    select
        record_id, person_id, team_id, worker_id, 1 as in_numerator, measure,
        plan_start, last_visit, due_date, measure - 10 as overdue
    from saf13_cp_visits_10wd
    where in_numerator = 0
)

select * from final
