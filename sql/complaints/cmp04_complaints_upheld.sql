-- CMP04 Complaints upheld %.
-- Definition (kpis.md): "of complaints with response_date in period: % upheld or
-- partially upheld (both shown)".
-- Binding decisions: "withdrawn complaints with a response are included" (in the
-- denominator: a withdrawn complaint is not upheld). Every stage counts. Outcomes are
-- compared after trimming, in any case.
-- Grain: one row per complaint responded to in the period (sql/common/
-- complaints_responded.sql); flag_upheld and flag_partially_upheld are the two shown
-- separately (CMP04:upheld, CMP04:partially_upheld).
-- Parameters: :period_start, :period_end.
with outcomes as (
    select
        complaint_id,
        person_id,
        team_id,
        service_area,
        case when lower(trim(outcome)) = 'upheld' then 1 else 0 end as flag_upheld,
        case when lower(trim(outcome)) = 'partially upheld' then 1 else 0 end as flag_partially_upheld
    from complaints_responded
),

final as (
    select
        complaint_id as record_id,
        person_id,
        team_id,
        cast(null as varchar(64)) as worker_id,
        flag_upheld + flag_partially_upheld as in_numerator,
        flag_upheld,
        flag_partially_upheld,
        service_area
    from outcomes
)

select * from final
