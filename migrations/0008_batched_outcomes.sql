-- The outcomes of a claimed batch in one statement (AOL_CLAIM_BATCH_SIZE,
-- AOL_WORKER_CONCURRENCY). No table: aol_action_outcomes() lives in
-- sql/functions/actions.sql.
SELECT 1;
