-- CMP06 Compliments received.
-- Definition (kpis.md): "count by team and theme" of compliments, received_date in
-- period (the section's "in period" convention).
-- Grain: one row per compliment received in the period. team_id = the compliment's team
-- (the team level is "by team"); theme is a breakdown (CMP06:theme=<theme>).
-- Registry: attribution record.
-- Parameters: :period_start, :period_end.
with received_in_period as (
    select *
    from compliments
    where received_date between :period_start and :period_end
),

final as (
    select
        compliment_id as record_id,
        cast(null as varchar(64)) as person_id,
        team_id,
        cast(null as varchar(64)) as worker_id,
        1 as in_numerator,
        theme,
        service_area
    from received_in_period
)

select * from final
