-- Children looked after at period_end, one row per child: the current episode with
-- care_began, the day the child's period of care began (SAF19, SAF21, DD06, DD07).
-- Binding decisions: "Several open CLA episodes for one child at period_end (a
-- recording error; the validation warns): the child's current episode is the open one
-- with the latest start (ties: highest episode id), and the child's period of care began
-- on the earliest clae_entered_care_date among the open episodes (SAF19, SAF21, DD06,
-- DD07)". Closed episodes do not set care_began.
-- Columns: those of the current episode (a reader reads those it names), care_began.
-- Grain: one row per child. Parameters: :period_end.
with ranked_episodes as (
    select
        e.*,
        row_number() over (
            partition by e.clae_person_id
            order by e.clae_cla_episode_start_date desc, e.clae_cla_episode_id desc
        ) as recency,
        min(e.clae_entered_care_date) over (partition by e.clae_person_id) as care_began
    from cla_episodes_open as e
),

final as (
    select *
    from ranked_episodes
    where recency = 1
)

select * from final
