-- Allocated-worker involvements, open or not (allocation.sql, DD01, DD10, DD11).
-- Binding decisions: "DD01 and DD11: 'allocated' means an open involvement with the
-- allocated case worker role for the child, on any referral; other roles (IRO, personal
-- adviser) do not count". The role matches :allocated_role trimmed, in any case.
-- Every column of ssd_involvements: a reader reads the columns it names.
-- Grain: one row per involvement. Parameters: :allocated_role.
select *
from ssd_involvements
where upper(trim(invo_professional_role_id)) = upper(trim(:allocated_role))
