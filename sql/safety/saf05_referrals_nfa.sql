-- SAF05 Referrals NFA %.
-- Definition (kpis.md): "of referrals in period: % with cine_referral_nfa = Y".
-- Binding decisions: SAF05 uses cine_referral_nfa only; flags are normalised on load
-- (Y, Yes, 1, true... -> Y) and any other value, including empty, is "not Y".
-- Grain: one row per referral with cine_referral_date in the period.
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
        case when cine_referral_nfa = 'Y' then 1 else 0 end as in_numerator
    from referrals_in_period
)

select * from final
