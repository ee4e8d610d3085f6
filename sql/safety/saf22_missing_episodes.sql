-- SAF22 Missing episodes started in month.
-- Definition (kpis.md): "count of ssd_missing with missing_episode_start_date in
-- period; with the % where a return home interview was offered (rhi_offered = Y)".
-- Binding decisions: "every missing episode type counts; an RHI flag that is not Y
-- (including NA or empty) is in the denominator only". Flags are normalised to Y/N on
-- load, so flag_rhi_offered (SAF22:rhi_offered_pct) is 1 only for 'Y'.
-- Grain: one row per missing episode started in the period.
-- Team/worker: ssd_missing has no team or worker column (NULL; the framework uses the
-- child's allocated worker).
-- Parameters: :period_start, :period_end.
with episodes_started_in_period as (
    select *
    from ssd_missing
    where miss_missing_episode_start_date between :period_start and :period_end
),

final as (
    select
        miss_table_id as record_id,
        miss_person_id as person_id,
        cast(null as varchar(64)) as team_id,
        cast(null as varchar(64)) as worker_id,
        1 as in_numerator,
        case when miss_missing_rhi_offered = 'Y' then 1 else 0 end as flag_rhi_offered
    from episodes_started_in_period
)

select * from final
