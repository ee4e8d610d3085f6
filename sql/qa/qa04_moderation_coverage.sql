-- QA04 Moderation coverage %.
-- Definition (kpis.md): "of audits completed in the calendar month before the period
-- (so that moderation has had time): % with a moderation record dated on or before
-- period_end, by service area; targets 20% Social Care, 10% Early Help, 100% for audits
-- graded Inadequate". A moderation with no date, or dated after period_end, does not
-- exist yet. Registry extras: service_area=<area>, grade=Inadequate (the same measure on
-- those audits); targets are configuration ([qa.moderation_targets]).
-- Grain: one row per audit completed in the previous month. team_id = the audit's team;
-- worker_id = the auditor. Registry: attribution record.
-- Parameters: :prev_month_start, :prev_month_end, :period_end.
with completed_last_month as (
    select *
    from qa_audits
    where completed_date between :prev_month_start and :prev_month_end
),

moderated_by_period_end as (
    select distinct audit_id
    from qa_moderations
    where moderated_date <= :period_end
),

final as (
    select
        a.audit_id as record_id,
        a.person_id,
        a.team_id,
        a.auditor_id as worker_id,
        case when m.audit_id is not null then 1 else 0 end as in_numerator,
        a.service_area,
        a.auditor_role,
        a.grade,
        a.theme,
        a.completed_date
    from completed_last_month as a
    left join moderated_by_period_end as m on m.audit_id = a.audit_id
)

select * from final
