-- SAF08 Section 47 enquiries started.
-- Definition (kpis.md): "count of ssd_s47_enquiry with s47_start_date in period".
-- Binding decisions: counts of a table count rows.
-- Grain: one row per S47 enquiry with s47e_s47_start_date in the period.
-- Parameters: :period_start, :period_end.
with started_in_period as (
    select *
    from ssd_s47_enquiry
    where s47e_s47_start_date between :period_start and :period_end
),

final as (
    select
        s47e_s47_enquiry_id as record_id,
        s47e_person_id as person_id,
        s47e_s47_completed_by_team as team_id,
        s47e_s47_completed_by_worker_id as worker_id,
        1 as in_numerator
    from started_in_period
)

select * from final
