-- SAF09 ICPCs within 15 working days %.
-- Definition (kpis.md): "of initial CP conferences with icpc_date in period and
-- icpc_transfer_in not Y: % with working_days_between(s47_start_date of the linked
-- S47, icpc_date) <= 15; an ICPC with no linked S47 counts in the denominator only".
-- Binding decisions: the S47 is linked only through icpc_s47_enquiry_id; an empty
-- transfer-in flag is "not Y"; ICPCs that did not lead to a plan are included; a
-- missing date (no linked S47, or an S47 with no start date) is denominator only; an
-- S47 starting after period_end does not exist yet (denominator only).
-- working_days_between(a, b) = wd(b) - wd(a), from `calendar`.
-- Grain: one row per ICPC held in the period that is not a transfer-in.
-- Parameters: :period_start, :period_end.
with icpcs_in_period as (
    select *
    from ssd_initial_cp_conference
    where icpc_icpc_date between :period_start and :period_end
      and coalesce(icpc_icpc_transfer_in, '') <> 'Y'
),

linked_s47_starts as (
    select
        s47e_s47_enquiry_id as s47_enquiry_id,
        s47e_s47_start_date as s47_start_date
    from ssd_s47_enquiry
    where s47e_s47_start_date <= :period_end
),

working_days as (
    select
        i.icpc_icpc_id,
        held.wd_index - started.wd_index as working_days
    from icpcs_in_period as i
    inner join linked_s47_starts as s on s.s47_enquiry_id = i.icpc_s47_enquiry_id
    inner join calendar as started on started.cal_date = s.s47_start_date
    inner join calendar as held on held.cal_date = i.icpc_icpc_date
),

final as (
    select
        i.icpc_icpc_id as record_id,
        i.icpc_person_id as person_id,
        i.icpc_icpc_team as team_id,
        i.icpc_icpc_worker_id as worker_id,
        case when w.working_days <= 15 then 1 else 0 end as in_numerator,
        w.working_days as measure
    from icpcs_in_period as i
    left join working_days as w on w.icpc_icpc_id = i.icpc_icpc_id
)

select * from final
