-- DD06 CLA visit overdue (exception list).
-- Definition (kpis.md): "the SAF19 denominator rows that are not in its numerator".
-- SAF19 (kpis.md): "denominator: children looked after at period_end with
-- days_between(entered_care_date, period_end) > 42; numerator: those with a visit where
-- cla_visit_seen = Y and days_between(visit_date, period_end) <= 42".
-- Binding decisions: "SAF19: the unit is the child; visits join by clav_person_id".
-- "Several open CLA episodes for one child at period_end (a recording error; the
-- validation warns): the child's current episode is the open one with the latest start
-- (ties: highest episode id), and the child's period of care began on the earliest
-- clae_entered_care_date among the open episodes (SAF19, SAF21, DD06, DD07)".
-- Looked after = a CLA episode open at period_end; entered_care_date is the earliest
-- clae_entered_care_date among the child's open episodes (closed ones do not count).
-- measure = days since the last seen visit on or before period_end (or since
-- entered_care_date when there is none).
-- The CTEs up to child_visit_status are identical to sql/safety/saf19_cla_visits_6w.sql.
-- Grain: one row per overdue child (record_id = person id). Parameters: :period_end.
with open_episodes as (
    select
        e.clae_person_id as person_id,
        row_number() over (
            partition by e.clae_person_id
            order by e.clae_cla_episode_start_date desc, e.clae_cla_episode_id desc
        ) as recency,
        min(e.clae_entered_care_date) over (partition by e.clae_person_id) as care_began
    from ssd_cla_episodes as e
    where e.clae_cla_episode_start_date <= :period_end
      and (e.clae_cla_episode_ceased_date is null or e.clae_cla_episode_ceased_date > :period_end)
),

-- One row per child: the current episode (recency = 1), with the day the child's
-- period of care began (the earliest entered_care_date among the open episodes).
children_looked_after as (
    select person_id, care_began as entered_care_date
    from open_episodes
    where recency = 1
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
        lv.last_visit_date,
        pe.day_number - since.day_number as days_since_visit,
        case when lv.last_visit_date is not null and pe.day_number - since.day_number <= 42
             then 1 else 0 end as visited_within_42_days
    from children_in_care_over_42_days as c
    left join last_seen_visits as lv on lv.person_id = c.person_id
    left join calendar as since on since.cal_date = coalesce(lv.last_visit_date, c.entered_care_date)
    join calendar as pe on pe.cal_date = :period_end
),

final as (
    select
        person_id as record_id,
        person_id,
        cast(null as varchar(64)) as team_id,
        cast(null as varchar(64)) as worker_id,
        1 as in_numerator,
        days_since_visit as measure
    from child_visit_status
    where visited_within_42_days = 0
)

select * from final
