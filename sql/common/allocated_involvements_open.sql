-- Allocated-worker involvements open at period_end (allocation.sql, DD01, DD10).
-- Open = "start <= period_end and (end empty or end > period_end)".
-- Every column of ssd_involvements: a reader reads the columns it names.
-- Grain: one row per involvement. Parameters: :period_end, :allocated_role.
select *
from allocated_involvements
where invo_involvement_start_date <= :period_end
  and (invo_involvement_end_date is null or invo_involvement_end_date > :period_end)
