-- CMP05 Escalated to stage 2 %.
-- Definition (kpis.md): "of stage 1 complaints responded to in the previous quarter: %
-- with a stage 2 complaint linked to them".
-- "The previous quarter" is the calendar quarter before the one containing period_end
-- (:prev_quarter_start to :prev_quarter_end): for a quarter, the quarter before it; for a
-- financial-year half, its first quarter. A stage 2 complaint is linked through its
-- parent_complaint_id. As at period_end: "an escalation dated after it does not exist
-- yet", so the stage 2 complaint counts when received on or before period_end (one with
-- no received date has not been shown to exist by then). Withdrawn stage 1 complaints
-- with a response are included, as in CMP02-CMP04.
-- Grain: one row per stage 1 complaint responded to in the previous quarter.
-- Registry: attribution record (the complaint's team).
-- Parameters: :prev_quarter_start, :prev_quarter_end, :period_end.
with stage_1_responded as (
    select *
    from complaints
    where trim(stage) = '1'
      and response_date between :prev_quarter_start and :prev_quarter_end
),

escalations as (
    select distinct parent_complaint_id
    from complaints
    where trim(stage) = '2'
      and parent_complaint_id is not null
      and received_date <= :period_end
),

final as (
    select
        s.complaint_id as record_id,
        s.person_id,
        s.team_id,
        cast(null as varchar(64)) as worker_id,
        case when e.parent_complaint_id is not null then 1 else 0 end as in_numerator,
        s.service_area
    from stage_1_responded as s
    left join escalations as e on e.parent_complaint_id = s.complaint_id
)

select * from final
