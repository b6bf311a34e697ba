-- Scoped, expiring pauses (issue 16): pause some action types, or all, until
-- a deadline, without touching the runbook's global pause (aol_control_flags
-- .paused and its SQL stay exactly as they are).
--
-- Both events live on the control stream and change the control version, so
-- the worker acknowledges them like any flag change. The claim skips the
-- paused types in the same statement that claims, and ends every pause whose
-- deadline has passed on the database clock (aol_now(), which tests and drills
-- shift through aol_clock) first, with a ScopedPauseEnded event: a deadline is
-- honoured exactly at the next claim, and the end is in the log.

CREATE TABLE aol_scoped_pauses (
  pause_id       text        PRIMARY KEY,
  action_types   text[],     -- NULL: every type
  until_utc      timestamptz, -- NULL: until resumed
  reason         text,
  started_by     text        NOT NULL,
  started_at_utc timestamptz NOT NULL,
  ended_at_utc   timestamptz,
  expired        boolean,    -- true: ended by its deadline; false: resumed by someone
  ended_by       text
);
CREATE INDEX aol_scoped_pauses_active ON aol_scoped_pauses (until_utc) WHERE ended_at_utc IS NULL;
CREATE TRIGGER aol_scoped_pauses_guard AFTER INSERT OR UPDATE OR DELETE ON aol_scoped_pauses
  FOR EACH ROW WHEN (NOT aol_projecting()) EXECUTE FUNCTION aol_read_model_guard();

-- ISO 8601 with milliseconds, as JavaScript's toISOString() writes it (an
-- `until` given through the API reads back exactly as it was sent).
CREATE FUNCTION aol_iso_ms(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- The control projection's two scoped-pause events are in aol_apply_control
-- (0010_roles.sql), its one current body; this table is reset with the others.

-- End every active pause whose deadline has passed (database clock), one
-- ScopedPauseEnded {expired: true} each. The caller holds the append lock
-- (the claim's fence takes it), so two callers cannot both end one pause.
CREATE FUNCTION aol_expire_scoped_pauses(p_actor text) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  p record;
  n integer := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(7310001);
  FOR p IN SELECT pause_id FROM aol_scoped_pauses
            WHERE ended_at_utc IS NULL AND until_utc <= aol_now() ORDER BY until_utc, pause_id LOOP
    PERFORM aol_append('control', NULL, 'ScopedPauseEnded',
      jsonb_build_object('pause_id', p.pause_id, 'expired', true),
      jsonb_build_object('actor', p_actor, 'via', 'worker', 'reason', 'scoped pause deadline passed'));
    n := n + 1;
  END LOOP;
  RETURN n;
END $$;

CREATE OR REPLACE FUNCTION aol_claim(p_owner text, p_epoch bigint, p_limit integer, p_env_proof boolean)
RETURNS TABLE (fenced boolean, id bigint, action_type text, payload jsonb, idempotency_key text, attempt integer, proof_mode boolean)
LANGUAGE plpgsql AS $$
DECLARE
  f aol_control_flags;
  v_proof boolean;
  v_ids bigint[];
  v_data jsonb[];
BEGIN
  IF NOT aol_fence(p_owner, p_epoch, 'claim', NULL) THEN
    RETURN QUERY SELECT true, NULL::bigint, NULL::text, NULL::jsonb, NULL::text, NULL::integer, NULL::boolean;
    RETURN;
  END IF;
  PERFORM aol_expire_scoped_pauses(p_owner);
  SELECT * INTO f FROM aol_control_flags WHERE aol_control_flags.id = 1;
  IF f.paused OR f.killed THEN
    RETURN;
  END IF;
  v_proof := p_env_proof OR f.proof_mode;
  SELECT array_agg(c.id ORDER BY c.not_before_utc, c.id),
         array_agg(jsonb_build_object('attempt', c.attempts + 1, 'worker', p_owner, 'epoch', p_epoch,
           'proof_mode', v_proof) ORDER BY c.not_before_utc, c.id)
    INTO v_ids, v_data
    FROM (SELECT a.id, a.attempts, a.not_before_utc FROM aol_actions a
           WHERE a.status IN ('PENDING', 'RETRY') AND a.not_before_utc <= clock_timestamp()
             AND NOT EXISTS (SELECT 1 FROM aol_scoped_pauses p
                              WHERE p.ended_at_utc IS NULL
                                AND (p.action_types IS NULL OR a.action_type = ANY (p.action_types)))
           ORDER BY a.not_before_utc, a.id
           LIMIT p_limit
           FOR UPDATE SKIP LOCKED) c;
  IF v_ids IS NULL THEN
    RETURN;
  END IF;
  PERFORM count(*) FROM aol_append_many(
    ARRAY(SELECT 'action:' || x FROM unnest(v_ids) WITH ORDINALITY u(x, i) ORDER BY i), NULL,
    array_fill('ActionStarted'::text, ARRAY[cardinality(v_ids)]), v_data,
    array_fill(aol_worker_metadata(p_owner), ARRAY[cardinality(v_ids)]));
  RETURN QUERY
    SELECT false, a.id, a.action_type, a.payload, a.idempotency_key, a.attempts, v_proof
      FROM unnest(v_ids) WITH ORDINALITY u(x, i) JOIN aol_actions a ON a.id = u.x
     ORDER BY u.i;
END $$;

-- Auditors (and so operators and admins) read the scoped pauses through the
-- same helper the service uses (aol_secure_objects revokes it from PUBLIC).
GRANT EXECUTE ON FUNCTION aol_iso_ms(timestamptz) TO aol_auditor;
