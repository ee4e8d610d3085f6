-- CMP01 Complaints received.
-- Definition (kpis.md): "count by stage (1, 2, 3, Ombudsman), complainant type (child or
-- young person / adult) and service area, received_date in period".
-- Binding decisions: "'adult' is any complainant type other than child or young person;
-- 'Ombudsman' is stage LGSCO". An empty complainant type is "other than child or young
-- person", so adult. A stage outside 1, 2, 3, LGSCO is counted under its own value.
-- Grain: one row per complaint received in the period (every stage: a stage 2 is its
-- own complaint). team_id = the complaint's team; no worker. Registry: attribution record.
-- Parameters: :period_start, :period_end.
with received_in_period as (
    select *
    from complaints
    where received_date between :period_start and :period_end
),

final as (
    select
        complaint_id as record_id,
        person_id,
        team_id,
        cast(null as varchar(64)) as worker_id,
        1 as in_numerator,
        case when upper(trim(stage)) = 'LGSCO' then 'Ombudsman' else trim(stage) end as stage,
        case
            when lower(trim(complainant_type)) = 'child or young person' then 'child or young person'
            else 'adult'
        end as complainant,
        service_area
    from received_in_period
)

select * from final
