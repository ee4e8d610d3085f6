-- IRO01 Dispute resolution alerts raised.
-- Definition (kpis.md): "count by stage, theme and team, raised_date in period".
-- Grain: one row per DRP alert raised in the period. team_id = the alert's team (the
-- team level is "by team"); worker_id = the IRO who raised it; stage and theme are
-- breakdowns (IRO01:stage=<stage>, IRO01:theme=<theme>). Registry: attribution record.
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
        iro_id as worker_id,
        1 as in_numerator,
        trim(stage) as stage,
        theme
    from raised_in_period
)

select * from final
