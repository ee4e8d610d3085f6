-- SAF03 Referral rate per 10,000 (rolling 12 months).
-- Definition (kpis.md): "referrals with referral_date in the rolling 12 months /
-- population 0-17 * 10,000".
-- Binding decisions: rolling 12 months = the 365 days [period_end - 364, period_end],
-- even across a 29 February; a referral dated after period_end does not exist yet.
-- Kind rate: the rows are the numerator; compute.py divides by the LA's population
-- 0-17 (published at LA level only).
-- Grain: one row per referral with cine_referral_date in the rolling 12 months.
-- Parameters: :rolling_12m_start, :period_end.
with referrals_in_rolling_12m as (
    select *
    from ssd_cin_episodes
    where cine_referral_date between :rolling_12m_start and :period_end
),

final as (
    select
        cine_referral_id as record_id,
        cine_person_id as person_id,
        cine_referral_team as team_id,
        cine_referral_worker_id as worker_id,
        1 as in_numerator
    from referrals_in_rolling_12m
)

select * from final
