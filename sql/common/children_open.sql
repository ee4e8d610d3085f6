-- Children open at period_end (DD01, DD11): "child with an open CIN episode (not NFA),
-- CP plan or CLA episode at period_end".
-- Grain: one row per child (one NULL person_id when a record has none).
-- Parameters: :period_end.
select cine_person_id as person_id
from cin_episodes_open
union
select cppl_person_id
from cp_plans_open
union
select clae_person_id
from cla_episodes_open
