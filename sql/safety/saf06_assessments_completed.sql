-- SAF06 Assessments completed in month.
-- Definition (kpis.md): "count of ssd_cin_assessments with assessment_auth_date in
-- period".
-- Binding decisions: counts of a table count rows; an authorisation after period_end
-- leaves the assessment open (outside this period).
-- Grain: one row per assessment with cina_assessment_auth_date in the period.
-- Parameters: :period_start, :period_end.
with authorised_in_period as (
    select *
    from ssd_cin_assessments
    where cina_assessment_auth_date between :period_start and :period_end
),

final as (
    select
        cina_assessment_id as record_id,
        cina_person_id as person_id,
        cina_assessment_team as team_id,
        cina_assessment_worker_id as worker_id,
        1 as in_numerator
    from authorised_in_period
)

select * from final
