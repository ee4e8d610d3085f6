-- SAF19 CLA visits within 6 weeks %.
-- Definition (kpis.md): "denominator: children looked after at period_end with
-- days_between(entered_care_date, period_end) > 42; numerator: those with a visit where
-- cla_visit_seen = Y and days_between(visit_date, period_end) <= 42".
-- Binding decisions: "SAF19: the unit is the child; visits join by clav_person_id".
-- "Several open CLA episodes for one child at period_end (a recording error; the
-- validation warns): the child's current episode is the open one with the latest start
-- (ties: highest episode id), and the child's period of care began on the earliest
-- clae_entered_care_date among the open episodes (SAF19, SAF21, DD06, DD07)".
-- "6 weeks" = 42 days. Looked after, and entered_care_date (the earliest
-- clae_entered_care_date among the child's open episodes): sql/common/
-- cla_current_episodes.sql. A child none of whose open episodes has an
-- entered_care_date cannot be shown to be in care over 42 days and is left out.
-- A visit dated after period_end does not exist yet.
-- The latest seen visit on or before period_end decides. measure = days since that
-- visit (or since entered care when there is none), the measure DD06 lists: DD06
-- reads these rows.
-- Grain: one row per child in the denominator. Also entered_care, last_visit and
-- due_date (42 days after the last visit, or entering care), which DD06's list shows.
-- Parameters: :period_end.
with children_looked_after as (
    select clae_person_id as person_id, care_began as entered_care_date
    from cla_current_episodes
),

children_in_care_over_42_days as (
    select c.*
    from children_looked_after as c
    join calendar as entered on entered.cal_date = c.entered_care_date
    join calendar as pe on pe.cal_date = :period_end
    where pe.day_number - entered.day_number > 42
),

last_seen_visits as (
    select
        v.clav_person_id as person_id,
        max(v.clav_cla_visit_date) as last_visit_date
    from ssd_cla_visits as v
    where v.clav_cla_visit_seen = 'Y'
      and v.clav_cla_visit_date <= :period_end
    group by v.clav_person_id
),

child_visit_status as (
    select
        c.person_id,
        c.entered_care_date,
        lv.last_visit_date,
        due.cal_date as visit_due_date,
        pe.day_number - since.day_number as days_since_visit,
        case when lv.last_visit_date is not null and pe.day_number - since.day_number <= 42
             then 1 else 0 end as visited_within_42_days
    from children_in_care_over_42_days as c
    left join last_seen_visits as lv on lv.person_id = c.person_id
    left join calendar as since on since.cal_date = coalesce(lv.last_visit_date, c.entered_care_date)
    left join calendar as due on due.day_number = since.day_number + 42
    join calendar as pe on pe.cal_date = :period_end
),

final as (
    select
        person_id as record_id,
        person_id,
        cast(null as varchar(64)) as team_id,
        cast(null as varchar(64)) as worker_id,
        visited_within_42_days as in_numerator,
        days_since_visit as measure,
        entered_care_date as entered_care,
        last_visit_date as last_visit,
        visit_due_date as due_date
    from child_visit_status
)

select * from final
