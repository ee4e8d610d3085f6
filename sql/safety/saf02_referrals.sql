-- SAF02 Referrals in month.
-- Definition (kpis.md): "count of ssd_cin_episodes with referral_date in period".
-- Binding decisions: counts of a table count rows (duplicate ids are a validation
-- matter, not de-duplicated here).
-- Grain: one row per referral (CIN episode) with cine_referral_date in the period.
-- Parameters: :period_start, :period_end.
with referrals_in_period as (
    select *
    from ssd_cin_episodes
    where cine_referral_date between :period_start and :period_end
),

final as (
    select
        cine_referral_id as record_id,
        cine_person_id as person_id,
        cine_referral_team as team_id,
        cine_referral_worker_id as worker_id,
        1 as in_numerator
    from referrals_in_period
)

select * from final
