-- The worker's writes (claim, outcomes, orphan recovery, control
-- acknowledgement, ticks), each behind the fence. No table: the functions
-- live in sql/functions/actions.sql, control.sql and ticks.sql.
SELECT 1;
