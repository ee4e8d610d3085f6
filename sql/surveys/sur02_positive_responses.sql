-- SUR02 Positive response % by question.
-- Definition (kpis.md): "of answers to a scaled question: % in the top two points of the
-- scale (agree / strongly agree), per question, per respondent type". SUR02 itself: all
-- scaled answers together; SUR02:question=<survey_id>/<question_id> per question and
-- SUR02:question=<survey_id>/<question_id>:respondent_type=<type> within it.
-- Binding decision: "SUR02 uses likert5 questions and the values listed in
-- positive_values (separated by ;); a blank answer is not an answer."
-- So only a blank (empty or spaces) answer is left out: any other answer, including one
-- outside the scale ('6', 'N/A'), is an answer and is in the denominator, positive only
-- when listed in positive_values. Answers and positive values compare trimmed (spaces
-- around the ';' separators ignored) and in any case. The scale is compared trimmed, in
-- lower case.
-- question_key = survey_id/question_id with each part percent-encoded as kpis.md writes
-- data values in ids (% : = /), so the registry writes it as it is (encoded: true).
-- (LIKE: an answer holding % or _ would act as a wildcard; survey answers are scale points.)
-- Grain: one row per non-blank answer submitted in the period to a likert5 question;
-- record_id = response_id/question_id. team_id = the response's team.
-- Registry: attribution record.
-- Parameters: :period_start, :period_end.
with likert_questions as (
    select
        survey_id,
        question_id,
        ';' || lower(replace(replace(coalesce(positive_values, ''), ' ;', ';'), '; ', ';')) || ';'
            as positive_list
    from survey_questions
    where lower(trim(scale)) = 'likert5'
),

answers as (
    select
        r.response_id,
        r.survey_id,
        r.question_id,
        r.respondent_type,
        r.team_id,
        lower(trim(r.answer)) as answer,
        q.positive_list
    from survey_responses as r
    inner join likert_questions as q
        on q.survey_id = r.survey_id
        and q.question_id = r.question_id
    where r.submitted_date between :period_start and :period_end
      and trim(coalesce(r.answer, '')) <> ''
),

final as (
    select
        response_id || '/' || question_id as record_id,
        cast(null as varchar(64)) as person_id,
        team_id,
        cast(null as varchar(64)) as worker_id,
        case when positive_list like '%;' || answer || ';%' then 1 else 0 end as in_numerator,
        replace(replace(replace(replace(survey_id, '%', '%25'), ':', '%3A'), '=', '%3D'), '/', '%2F')
            || '/'
            || replace(replace(replace(replace(question_id, '%', '%25'), ':', '%3A'), '=', '%3D'), '/', '%2F')
            as question_key,
        respondent_type
    from answers
)

select * from final
