-- A receiver's answer goes to the execution log, not to last_error: the
-- failure event's optional `detail` is appended to its execution-log line.
-- No table: aol_action_message() lives in sql/functions/actions.sql.
SELECT 1;
