-- Found by the chaos suite: a pause (or kill, or proof-on) committed between
-- the worker's last NOTIFY and its next claim let one more action start after
-- the pause in log order, and the started attempt's proof mode came from the
-- worker's in-memory flags. The claim now reads the flags itself, under the
-- append lock: paused or killed → nothing is claimed; the attempt's proof mode
-- is the worker's AOL_PROOF_MODE OR the flag as of the claim. So in log order
-- no ActionStarted ever follows a pause/kill, and none is in real mode while
-- proof mode is on.
DROP FUNCTION aol_claim(text, bigint, integer, boolean);

CREATE FUNCTION aol_claim(p_owner text, p_epoch bigint, p_limit integer, p_env_proof boolean)
RETURNS TABLE (fenced boolean, id bigint, action_type text, payload jsonb, idempotency_key text, attempt integer, proof_mode boolean)
LANGUAGE plpgsql AS $$
DECLARE
  r aol_actions;
  f aol_control_flags;
  v_proof boolean;
BEGIN
  IF NOT aol_fence(p_owner, p_epoch, 'claim', NULL) THEN
    RETURN QUERY SELECT true, NULL::bigint, NULL::text, NULL::jsonb, NULL::text, NULL::integer, NULL::boolean;
    RETURN;
  END IF;
  SELECT * INTO f FROM aol_control_flags WHERE aol_control_flags.id = 1;
  IF f.paused OR f.killed THEN
    RETURN;
  END IF;
  v_proof := p_env_proof OR f.proof_mode;
  FOR r IN
    SELECT * FROM aol_actions a
     WHERE a.status IN ('PENDING', 'RETRY') AND a.not_before_utc <= clock_timestamp()
     ORDER BY a.not_before_utc, a.id
     LIMIT p_limit
     FOR UPDATE SKIP LOCKED
  LOOP
    PERFORM aol_append('action:' || r.id, NULL, 'ActionStarted', jsonb_build_object(
      'attempt', r.attempts + 1, 'worker', p_owner, 'epoch', p_epoch, 'proof_mode', v_proof),
      aol_worker_metadata(p_owner));
    RETURN QUERY SELECT false, r.id, r.action_type, r.payload, r.idempotency_key, r.attempts + 1, v_proof;
  END LOOP;
END $$;
