-- Complaints responded to in the period, any stage (CMP02, CMP03, CMP04).
-- Binding decisions (CMP02/CMP03/CMP04): "withdrawn complaints with a response are
-- included". A filter rule only (sql/README.md): each query reads the columns it names.
-- Grain: one row per complaint with response_date in the period.
-- Parameters: :period_start, :period_end.
select *
from complaints
where response_date between :period_start and :period_end
