-- Throughput settings (AOL_CLAIM_BATCH_SIZE, AOL_WORKER_CONCURRENCY): the
-- outcomes of a claimed batch are recorded in one statement, each still behind
-- the fence and the RUNNING-under-this-epoch check of aol_action_outcome.
CREATE FUNCTION aol_action_outcomes(p_owner text, p_epoch bigint, p_items jsonb)
RETURNS TABLE (id bigint, result text) LANGUAGE plpgsql AS $$
DECLARE
  x jsonb;
BEGIN
  FOR x IN SELECT value FROM jsonb_array_elements(p_items) LOOP
    id := (x->>'id')::bigint;
    result := aol_action_outcome(p_owner, p_epoch, id, x->>'type', x->'data');
    RETURN NEXT;
  END LOOP;
END $$;
