-- DD09 CIN episode open 2 years or more.
-- Definition (kpis.md): "CIN episode open at period_end, not NFA, with
-- days_between(referral_date, period_end) >= 730, for a child who is neither on a CP plan
-- nor looked after at period_end" ("2 years" = 730 days).
-- Binding decisions: "DD09 excludes children who are on a CP plan or looked after at
-- period_end (their drift shows in DD04-DD08)": on a plan / looked after as SAF12 and
-- SAF16 count them (their rows); open and not NFA: sql/common/cin_episodes_open.sql.
-- days_between(a, b) = day_number(b) - day_number(a), from `calendar`.
-- Grain: one row per exception (CIN episode, i.e. referral); measure = days since
-- referral.
-- Shown on the list (registry list_columns): referral_date and reached_2y (730 days after).
-- Parameters: :period_end.
with period_end_day as (
    select day_number
    from calendar
    where cal_date = :period_end
),

open_episodes as (
    select
        e.*,
        pe.day_number - referral.day_number as days_open,
        reached.cal_date as reached_2y
    from cin_episodes_open as e
    inner join calendar as referral on referral.cal_date = e.cine_referral_date
    cross join period_end_day as pe
    left join calendar as reached on reached.day_number = referral.day_number + 730
),

-- Without NULLs: one in the `not in` list below would leave out every episode.
children_on_cp_plan_or_looked_after as (
    select person_id
    from saf12_cp_children
    union
    select person_id
    from saf16_cla_children
    where person_id is not null
),

final as (
    select
        cine_referral_id as record_id,
        cine_person_id as person_id,
        cine_referral_team as team_id,
        cine_referral_worker_id as worker_id,
        1 as in_numerator,
        days_open as measure,
        cine_referral_date as referral_date,
        reached_2y
    from open_episodes
    where days_open >= 730
      and cine_person_id not in (select person_id from children_on_cp_plan_or_looked_after)
)

select * from final
