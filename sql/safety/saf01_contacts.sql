-- SAF01 Contacts in month.
-- Definition (kpis.md): "count of ssd_contacts with contact_date in period".
-- Grain: one row per contact. Parameters: :period_start, :period_end.
with contacts_in_period as (
    select
        cont_contact_id as record_id,
        cont_person_id as person_id
    from ssd_contacts
    where cont_contact_date between :period_start and :period_end
),

final as (
    select
        record_id,
        person_id,
        cast(null as varchar(64)) as team_id,
        cast(null as varchar(64)) as worker_id,
        1 as in_numerator
    from contacts_in_period
)

select * from final
