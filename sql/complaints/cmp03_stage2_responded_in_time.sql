-- CMP03 Stage 2 responded within timescale %.
-- Definition (kpis.md): "as CMP02 with 25 working days, or 65 when extended", that is:
-- of stage 2 complaints with response_date in period: % with
-- working_days_between(received, response) <= 25, or <= 65 when extended = Y.
-- Binding decisions: "withdrawn complaints with a response are included; working days
-- run from received_date to response_date". A missing received date: denominator only.
-- Complaints responded in the period and their working days:
-- sql/common/complaint_response_times.sql (CMP02, CMP03).
-- Grain: one row per stage 2 complaint responded to in the period; measure = working
-- days from receipt to response. Registry: attribution record (the complaint's team).
-- Parameters: :period_start, :period_end.
with stage_2 as (
    select *
    from complaint_response_times
    where trim(stage) = '2'
),

final as (
    select
        complaint_id as record_id,
        person_id,
        team_id,
        cast(null as varchar(64)) as worker_id,
        case
            when response_working_days <= case when is_extended = 1 then 65 else 25 end then 1
            else 0
        end as in_numerator,
        response_working_days as measure
    from stage_2
)

select * from final
