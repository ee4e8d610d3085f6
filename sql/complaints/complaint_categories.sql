-- Complaints received by category (the complaint themes of the six-monthly QA report's
-- proposed audit themes: tasks/reports/qa_period_report.py). Not a KPI: kpis.md defines
-- no measure of complaint categories, so this is a plain count.
-- Rule: complaints with received_date in the period (every stage: a stage 2 is its own
-- complaint, as CMP01 counts them), counted by their `category` as recorded (trimmed);
-- a complaint with no category is counted under an empty category, which the report
-- does not propose as a theme.
-- Grain: one row per category. Parameters: :period_start, :period_end.
with received_in_period as (
    select coalesce(trim(category), '') as category
    from complaints
    where received_date between :period_start and :period_end
),

final as (
    select
        category,
        count(*) as complaints
    from received_in_period
    group by category
)

select * from final
order by complaints desc, category
