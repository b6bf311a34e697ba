-- The claim reads the control flags itself, under the append lock (found by
-- the chaos suite). No table: aol_claim() lives in sql/functions/actions.sql.
SELECT 1;
