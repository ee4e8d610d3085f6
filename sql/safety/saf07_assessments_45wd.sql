-- SAF07 Assessments completed within 45 working days %.
-- Definition (kpis.md): "of assessments with auth_date in period: % with
-- working_days_between(start_date, auth_date) <= 45". A missing start date counts in
-- the denominator only. working_days_between(a, b) = wd(b) - wd(a), from `calendar`.
-- Grain: one row per assessment authorised in the period.
-- Parameters: :period_start, :period_end.
with authorised_in_period as (
    select *
    from ssd_cin_assessments
    where cina_assessment_auth_date between :period_start and :period_end
),

final as (
    select
        a.cina_assessment_id as record_id,
        a.cina_person_id as person_id,
        a.cina_assessment_team as team_id,
        a.cina_assessment_worker_id as worker_id,
        case when auth.wd_index - start.wd_index <= 45 then 1 else 0 end as in_numerator,
        auth.wd_index - start.wd_index as measure
    from authorised_in_period as a
    left join calendar as start on start.cal_date = a.cina_assessment_start_date
    left join calendar as auth on auth.cal_date = a.cina_assessment_auth_date
)

select * from final
