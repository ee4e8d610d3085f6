-- QA11 Practice observations coverage %.
-- Definition (kpis.md): "of practitioners in post at period_end: % with at least one
-- practice observation in the rolling 12 months". Binding: "practitioners are
-- qa_staff.role = Practitioner; only observation_type = practice counts"; rolling 12
-- months = [period_end - 364, period_end]. In post = start_date <= period_end and
-- (end_date empty or > period_end).
-- Grain: one row per practitioner in post; record_id = worker_id = staff_id; team_id =
-- the staff member's team; measure = observations in the window. Registry:
-- attribution record.
-- Parameters (configuration [[qa.observations]], the "practice" requirement; defaults
-- in brackets): :observed_role (Practitioner), :observation_type (practice),
-- :observation_count (1), :observation_window_start (period_end - 364), :period_end.
with practitioners as (
    select *
    from qa_staff
    where role = :observed_role
      and start_date <= :period_end
      and (end_date is null or end_date > :period_end)
),

observations_in_window as (
    select
        observed_staff_id,
        count(*) as observations
    from qa_observations
    where observation_type = :observation_type
      and observed_date between :observation_window_start and :period_end
    group by observed_staff_id
),

final as (
    select
        p.staff_id as record_id,
        cast(null as varchar(64)) as person_id,
        p.team_id,
        p.staff_id as worker_id,
        case when coalesce(o.observations, 0) >= :observation_count then 1 else 0 end as in_numerator,
        coalesce(o.observations, 0) as measure,
        p.name,
        p.service_area
    from practitioners as p
    left join observations_in_window as o on o.observed_staff_id = p.staff_id
)

select * from final
