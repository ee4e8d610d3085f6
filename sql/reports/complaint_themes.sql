-- Complaint themes: the complaints received in the period, counted by theme (complaints
-- report and the monthly workbook, issue 15). kpis.md defines no theme measure; the rule
-- is complaint_categories' (the one count of complaints by category, which the six-monthly
-- QA report reads too): complaints with received_date in period, every stage (CMP01's
-- population, so the themes add up to CMP01, the total the report shows beside them), by
-- their trimmed `category`; an empty category is shown as 'Not recorded'.
-- Grain: one row per theme with its count. Parameters: :period_start, :period_end.
with themes as (
    select
        case when category = '' then 'Not recorded' else category end as name,
        complaints
    from complaint_categories
),

final as (
    select name, sum(complaints) as complaints
    from themes
    group by name
)

select * from final
