-- CP plans open at period_end: the rule SAF12, SAF13, DD05, DD08, DD09, DD01, DD11 and
-- the audit cohort share.
-- Binding decisions: "open = start <= period_end and (end empty or end > period_end).
-- An end date equal to period_end means closed"; an end date after it leaves the plan
-- open.
-- Every column of ssd_cp_plans: a reader reads the columns it names.
-- Grain: one row per plan. Parameters: :period_end.
select *
from ssd_cp_plans
where cppl_cp_plan_start_date <= :period_end
  and (cppl_cp_plan_end_date is null or cppl_cp_plan_end_date > :period_end)
