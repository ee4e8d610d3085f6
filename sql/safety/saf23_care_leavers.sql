-- SAF23 Care leavers in touch %.
-- Definition (kpis.md): "of care leavers (ssd_care_leavers, eligibility recorded) aged
-- 17-21 at period_end: % with in_touch = Y; also published: % in suitable
-- accommodation (accom_suitable = Y) and % in education, employment or training
-- (activity is one of the SSDA903 OC3 codes F1, P1, F2, P2, F4, P4, F5, P5; G4, G5, G6
-- and 0 are not EET)".
-- Binding decisions: "the cohort is care leavers whose eligibility is not empty; one
-- row per person (the latest clea_care_leaver_latest_contact); the table is a current
-- snapshot, so only ages are computed at period_end. In touch = YES/Y; suitable
-- accommodation = code 1/Y."
-- - Rows with empty eligibility are dropped first; of a person's remaining rows the
--   one with the latest contact is kept (no contact date sorts last; ties: highest
--   clea_table_id).
-- - Age = completed years on period_end (a 29 February birthday is reached on 1 March):
--   aged 17-21 means :dob_22y < pers_dob <= :dob_17y (dob from ssd_person; a person
--   with no date of birth cannot be shown to be 17-21 and is left out).
-- - in_touch and accom_suitable are text codes (not load-normalised flags), compared
--   after upper(trim()): in touch = YES or Y; suitable = 1, or Y (with its Y/N-rule
--   spellings YES and TRUE). Other codes (NO, REFU, 2, N, empty ...) are not.
-- Extras: flag_accom_suitable (SAF23:accom_suitable_pct), flag_eet (SAF23:eet_pct).
-- Grain: one row per care leaver (record_id = person_id).
-- Team/worker: the record's clea_care_leaver_allocated_team / clea_care_leaver_worker_id.
-- Parameters: :dob_17y, :dob_22y.
with eligible_rows as (
    select
        clea_person_id as person_id,
        clea_care_leaver_in_touch as in_touch,
        clea_care_leaver_accom_suitable as accom_suitable,
        clea_care_leaver_activity as activity,
        clea_care_leaver_allocated_team as team_id,
        clea_care_leaver_worker_id as worker_id,
        row_number() over (
            partition by clea_person_id
            order by case when clea_care_leaver_latest_contact is null then 1 else 0 end,
                     clea_care_leaver_latest_contact desc,
                     clea_table_id desc
        ) as recency
    from ssd_care_leavers
    where clea_care_leaver_eligibility is not null
      and trim(clea_care_leaver_eligibility) <> ''
),

care_leavers_17_to_21 as (
    select r.*
    from eligible_rows as r
    join ssd_person as p on p.pers_person_id = r.person_id
    where r.recency = 1
      and p.pers_dob <= :dob_17y
      and p.pers_dob > :dob_22y
),

final as (
    select
        person_id as record_id,
        person_id,
        team_id,
        worker_id,
        case when upper(trim(in_touch)) in ('YES', 'Y') then 1 else 0 end as in_numerator,
        case when upper(trim(accom_suitable)) in ('1', 'Y', 'YES', 'TRUE') then 1 else 0 end
            as flag_accom_suitable,
        case when upper(trim(activity)) in ('F1', 'P1', 'F2', 'P2', 'F4', 'P4', 'F5', 'P5')
            then 1 else 0 end as flag_eet
    from care_leavers_17_to_21
)

select * from final
