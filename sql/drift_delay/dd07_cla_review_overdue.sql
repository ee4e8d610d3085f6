-- DD07 CLA review overdue (exception list).
-- Definition (kpis.md): "child looked after at period_end whose next review due date
-- (SAF18 rule) is before period_end".
-- SAF18 rule (kpis.md): "the first review of a period of care is due 20 working days
-- after entered_care_date, the second 3 months after the first review, each later one 6
-- months after the previous review".
-- Binding decisions: "DD05 and DD07: the next due date is computed from the rule only;
-- 'before period_end' is strict (due on period_end is not overdue)". SAF18: "the period
-- of care is clar_cla_id; its entry date is the earliest clae_entered_care_date among
-- that clae_cla_id's episodes starting on or before period_end; cancelled reviews are
-- outside the KPI and outside the first/second/later sequence; the computed first due
-- date is the 20th working day after the entry date". Recorded due dates are ignored.
-- "Several open CLA episodes for one child at period_end (a recording error; the
-- validation warns): the child's current episode is the open one with the latest start
-- (ties: highest episode id), and the child's period of care began on the earliest
-- clae_entered_care_date among the open episodes (SAF19, SAF21, DD06, DD07)": the
-- children looked after and their current episodes are sql/common/
-- cla_current_episodes.sql. The current episode's clae_cla_id is the period of
-- care whose reviews are held (clar_cla_id). Its entry date is the earlier of the SAF18
-- entry date of that clae_cla_id and the earliest clae_entered_care_date among the
-- child's open episodes: with one open episode this is the SAF18 entry date; with
-- several, the period of care began no later than the earliest open episode's entry.
-- Next due: no review held yet -> 20th working day after that entry date; else the
-- next review's due date as SAF18 computes it (one review -> that review + 3 months;
-- more -> latest review + 6 months). A child whose entry date is missing has no due
-- date and is not listed.
-- measure = days overdue = days_between(next due date, period_end).
-- Periods of care and next reviews: sql/common/cla_periods_of_care.sql and
-- cla_review_due_dates.sql, as SAF18 reads them.
-- Shown on the list (registry list_columns): entered_care (the entry date above),
-- last_review (the latest review held, empty when none) and due_date (the next review's).
-- Grain: one row per overdue child (record_id = person id). Parameters: :period_end.
with children_looked_after as (
    select clae_person_id as person_id, clae_cla_id as cla_id, care_began
    from cla_current_episodes
),

children_with_entry_dates as (
    select
        c.person_id,
        c.cla_id,
        case
            when poc.entry_date is null then c.care_began
            when c.care_began is null then poc.entry_date
            when c.care_began < poc.entry_date then c.care_began
            else poc.entry_date
        end as entry_date
    from children_looked_after as c
    left join cla_periods_of_care as poc on poc.cla_id = c.cla_id
),

children_with_next_due as (
    select
        c.person_id,
        c.entry_date,
        d.previous_review_date as last_review,
        case
            when d.review_number > 1 then d.computed_due_date
            else first_due.cal_date
        end as next_due_date
    from children_with_entry_dates as c
    left join cla_review_due_dates as d on d.cla_id = c.cla_id and d.is_next = 1
    left join calendar as entry on entry.cal_date = c.entry_date
    left join calendar as first_due
        on first_due.wd_index = entry.wd_index + 20 and first_due.is_working_day = 1
),

final as (
    select
        c.person_id as record_id,
        c.person_id,
        cast(null as varchar(64)) as team_id,
        cast(null as varchar(64)) as worker_id,
        1 as in_numerator,
        pe.day_number - due.day_number as measure,
        c.entry_date as entered_care,
        c.last_review,
        c.next_due_date as due_date
    from children_with_next_due as c
    join calendar as due on due.cal_date = c.next_due_date
    join calendar as pe on pe.cal_date = :period_end
    where c.next_due_date < :period_end
)

select * from final
