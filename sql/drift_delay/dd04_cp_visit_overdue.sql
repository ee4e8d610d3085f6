-- DD04 CP visit overdue (exception list).
-- Definition (kpis.md): "the SAF13 denominator rows that are not in its numerator;
-- measure = working days since the last seen visit (or since plan start)".
-- It reads SAF13's rows (sql/safety/saf13_cp_visits_10wd.sql, one per plan in its
-- denominator, measure = working days since the last seen visit or plan start).
-- Grain: one row per overdue CP plan (record_id = plan id). Parameters: :period_end.
with final as (
    select record_id, person_id, team_id, worker_id, 1 as in_numerator, measure
    from saf13_cp_visits_10wd
    where in_numerator = 0
)

select * from final
