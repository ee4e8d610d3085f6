-- IRO01 Dispute resolution alerts raised.
-- Definition (kpis.md): "count by stage, theme and team, raised_date in period".
-- Grain: one row per DRP alert raised in the period; stage and theme are breakdowns
-- (IRO01:stage=<stage>, IRO01:theme=<theme>). team_id = the alert's team, worker_id empty: as kpis.md's Team / worker
-- attribution, the child's allocated worker at period_end (and their team) takes
-- precedence, else the alert's team (the IRO is not the worker who must act).
-- Parameters: :period_start, :period_end.
with raised_in_period as (
    select *
    from iro_drp_alerts
    where raised_date between :period_start and :period_end
),

final as (
    select
        drp_id as record_id,
        person_id,
        team_id,
        cast(null as varchar(64)) as worker_id,
        1 as in_numerator,
        trim(stage) as stage,
        theme
    from raised_in_period
)

select * from final
