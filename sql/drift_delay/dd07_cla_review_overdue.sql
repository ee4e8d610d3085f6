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
-- clae_entered_care_date among the open episodes (SAF19, SAF21, DD06, DD07)".
-- Looked after = a CLA episode open at period_end (start <= period_end and (ceased
-- empty or ceased > period_end)). The current episode's clae_cla_id is the period of
-- care whose reviews are held (clar_cla_id). Its entry date is the earlier of the SAF18
-- entry date of that clae_cla_id and the earliest clae_entered_care_date among the
-- child's open episodes: with one open episode this is the SAF18 entry date; with
-- several, the period of care began no later than the earliest open episode's entry.
-- Next due: no review held yet -> 20th working day after entry; one review -> that
-- review + 3 months; more -> latest review + 6 months. A child whose entry date is
-- missing has no due date and is not listed.
-- measure = days overdue = days_between(next due date, period_end).
-- The CTEs periods_of_care and held_reviews are identical to
-- sql/safety/saf18_cla_reviews_timescale.sql.
-- Grain: one row per overdue child (record_id = person id). Parameters: :period_end.
with periods_of_care as (
    select
        e.clae_cla_id as cla_id,
        min(e.clae_person_id) as person_id,
        min(e.clae_entered_care_date) as entry_date
    from ssd_cla_episodes as e
    where e.clae_cla_id is not null
      and e.clae_cla_episode_start_date <= :period_end
    group by e.clae_cla_id
),

held_reviews as (
    select
        r.clar_cla_review_id as review_id,
        r.clar_cla_person_id as review_person_id,
        r.clar_cla_id as cla_id,
        r.clar_cla_review_date as review_date,
        r.clar_cla_review_due_date as recorded_due_date,
        row_number() over (
            partition by r.clar_cla_id
            order by r.clar_cla_review_date, r.clar_cla_review_id
        ) as review_number,
        lag(r.clar_cla_review_date) over (
            partition by r.clar_cla_id
            order by r.clar_cla_review_date, r.clar_cla_review_id
        ) as previous_review_date
    from ssd_cla_reviews as r
    where r.clar_cla_review_date is not null
      and r.clar_cla_review_date <= :period_end
      and coalesce(r.clar_cla_review_cancelled, '') <> 'Y'
),

latest_reviews as (
    select
        cla_id,
        max(review_number) as reviews_held,
        max(review_date) as latest_review_date
    from held_reviews
    group by cla_id
),

open_episodes as (
    select
        e.clae_person_id as person_id,
        e.clae_cla_id as cla_id,
        row_number() over (
            partition by e.clae_person_id
            order by e.clae_cla_episode_start_date desc, e.clae_cla_episode_id desc
        ) as recency,
        min(e.clae_entered_care_date) over (partition by e.clae_person_id) as care_began
    from ssd_cla_episodes as e
    where e.clae_cla_episode_start_date <= :period_end
      and (e.clae_cla_episode_ceased_date is null or e.clae_cla_episode_ceased_date > :period_end)
),

-- One row per child: the current episode (recency = 1), its period of care, and the
-- earliest entered_care_date among the open episodes.
children_looked_after as (
    select person_id, cla_id, care_began
    from open_episodes
    where recency = 1
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
    left join periods_of_care as poc on poc.cla_id = c.cla_id
),

children_with_next_due as (
    select
        c.person_id,
        case
            when lr.reviews_held is null then first_due.cal_date
            when lr.reviews_held = 1 then latest.plus_3_months
            else latest.plus_6_months
        end as next_due_date
    from children_with_entry_dates as c
    left join latest_reviews as lr on lr.cla_id = c.cla_id
    left join calendar as entry on entry.cal_date = c.entry_date
    left join calendar as first_due
        on first_due.wd_index = entry.wd_index + 20 and first_due.is_working_day = 1
    left join calendar as latest on latest.cal_date = lr.latest_review_date
),

final as (
    select
        c.person_id as record_id,
        c.person_id,
        cast(null as varchar(64)) as team_id,
        cast(null as varchar(64)) as worker_id,
        1 as in_numerator,
        pe.day_number - due.day_number as measure
    from children_with_next_due as c
    join calendar as due on due.cal_date = c.next_due_date
    join calendar as pe on pe.cal_date = :period_end
    where c.next_due_date < :period_end
)

select * from final
