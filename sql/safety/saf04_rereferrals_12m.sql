-- SAF04 Re-referrals within 12 months %.
-- Definition (kpis.md): "of referrals in period: % where the same child has another
-- referral with referral_date in [referral_date - 365 days, referral_date)".
-- Binding decisions: "another referral" is a different referral id of the same child,
-- NFA or not; a referral on the same day does not count (the window excludes the
-- referral date). "12 months" = 365 days, counted on calendar.day_number.
-- Grain: one row per referral with cine_referral_date in the period.
-- Parameters: :period_start, :period_end.
with referrals_in_period as (
    select
        r.*,
        c.day_number as referral_day
    from ssd_cin_episodes as r
    left join calendar as c on c.cal_date = r.cine_referral_date
    where r.cine_referral_date between :period_start and :period_end
),

all_referral_days as (
    select
        r.cine_referral_id,
        r.cine_person_id,
        c.day_number as referral_day
    from ssd_cin_episodes as r
    inner join calendar as c on c.cal_date = r.cine_referral_date
),

re_referrals as (
    select distinct r.cine_referral_id
    from referrals_in_period as r
    inner join all_referral_days as earlier
        on earlier.cine_person_id = r.cine_person_id
        and earlier.cine_referral_id <> r.cine_referral_id
        and earlier.referral_day >= r.referral_day - 365
        and earlier.referral_day < r.referral_day
),

final as (
    select
        r.cine_referral_id as record_id,
        r.cine_person_id as person_id,
        r.cine_referral_team as team_id,
        r.cine_referral_worker_id as worker_id,
        case when rr.cine_referral_id is not null then 1 else 0 end as in_numerator
    from referrals_in_period as r
    left join re_referrals as rr on rr.cine_referral_id = r.cine_referral_id
)

select * from final
