-- CMP02 Stage 1 responded within timescale %.
-- Definition (kpis.md): "of stage 1 complaints with response_date in period: % with
-- working_days_between(received, response) <= 10, or <= 20 when extended = Y".
-- Binding decisions: "withdrawn complaints with a response are included; working days
-- run from received_date to response_date". A missing received date: denominator only.
-- Complaints responded in the period and their working days:
-- sql/common/complaint_response_times.sql (CMP02, CMP03).
-- Grain: one row per stage 1 complaint responded to in the period; measure = working
-- days from receipt to response. Registry: attribution record (the complaint's team).
-- Parameters: :period_start, :period_end.
with stage_1 as (
    select *
    from complaint_response_times
    where trim(stage) = '1'
),

final as (
    select
        complaint_id as record_id,
        person_id,
        team_id,
        cast(null as varchar(64)) as worker_id,
        case
            when response_working_days <= case when is_extended = 1 then 20 else 10 end then 1
            else 0
        end as in_numerator,
        response_working_days as measure
    from stage_1
)

select * from final
