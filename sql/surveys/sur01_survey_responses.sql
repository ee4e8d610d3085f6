-- SUR01 Survey responses.
-- Definition (kpis.md): "responses by survey, respondent type and team, submitted_date in
-- period". Binding decision: "SUR01 counts distinct response_ids".
-- survey_responses has one row per answer (response_id + question_id): a response is its
-- answers submitted in the period; its survey, respondent type, team and date are those
-- of its answers (the lowest value where they disagree, a recording error).
-- Grain: one row per response. team_id = the response's team (optional column); no
-- child or worker. Breakdowns: SUR01:survey=<survey_id>, SUR01:respondent_type=<type>.
-- Registry: attribution record.
-- Parameters: :period_start, :period_end.
with answers_in_period as (
    select *
    from survey_responses
    where submitted_date between :period_start and :period_end
),

responses as (
    select
        response_id,
        min(survey_id) as survey_id,
        min(respondent_type) as respondent_type,
        min(team_id) as team_id
    from answers_in_period
    group by response_id
),

final as (
    select
        response_id as record_id,
        cast(null as varchar(64)) as person_id,
        team_id,
        cast(null as varchar(64)) as worker_id,
        1 as in_numerator,
        survey_id as survey,
        respondent_type
    from responses
)

select * from final
