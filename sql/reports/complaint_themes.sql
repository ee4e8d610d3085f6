-- Complaint themes: the complaints received in the period, counted by theme (complaints
-- report, issue 15). kpis.md defines no theme measure; the rule here: a complaint's theme
-- is its `category` (sources.md), trimmed; an empty category is 'Not recorded'. The
-- population is CMP01's (received_date in period, every stage), so the themes add up to
-- CMP01, the total the report shows beside them.
-- Grain: one row per theme with its count. Parameters: :period_start, :period_end.
with received_in_period as (
    select *
    from complaints
    where received_date between :period_start and :period_end
),

themed as (
    select coalesce(nullif(trim(category), ''), 'Not recorded') as theme
    from received_in_period
),

final as (
    select theme as name, count(*) as complaints
    from themed
    group by theme
)

select * from final
