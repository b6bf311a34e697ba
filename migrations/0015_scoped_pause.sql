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

-- 0010's body, and the scoped pauses reset too.
CREATE OR REPLACE FUNCTION aol_reset_control() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM aol_control_flags;
  INSERT INTO aol_control_flags VALUES (1, false, false, false, NULL, 0);
  DELETE FROM aol_control_ack;
  INSERT INTO aol_control_ack VALUES (1, 0, NULL, NULL, NULL, NULL);
  DELETE FROM aol_proof_requests;
  DELETE FROM aol_deployment;
  INSERT INTO aol_deployment VALUES (1, false, NULL);
  UPDATE aol_clock SET offset_seconds = 0;
  DELETE FROM aol_scoped_pauses;
END $$;

-- 0010's body (migration 0010_roles.sql), plus the two scoped-pause events.
CREATE OR REPLACE FUNCTION aol_apply_control(e aol_events) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  CASE e.type
    WHEN 'ControlPaused' THEN
      UPDATE aol_control_flags SET paused = true, version = e.stream_version, updated_at_utc = e.occurred_at;
    WHEN 'ControlResumed' THEN
      UPDATE aol_control_flags SET paused = false, version = e.stream_version, updated_at_utc = e.occurred_at;
    WHEN 'ControlKilled' THEN
      UPDATE aol_control_flags SET killed = true, version = e.stream_version, updated_at_utc = e.occurred_at;
    WHEN 'ControlRevived' THEN
      UPDATE aol_control_flags SET killed = false, version = e.stream_version, updated_at_utc = e.occurred_at;
    WHEN 'ProofModeEnabled' THEN
      UPDATE aol_control_flags SET proof_mode = true, version = e.stream_version, updated_at_utc = e.occurred_at;
    WHEN 'ProofModeDisabled' THEN
      UPDATE aol_control_flags SET proof_mode = false, version = e.stream_version, updated_at_utc = e.occurred_at;
    WHEN 'ControlAcknowledged' THEN
      UPDATE aol_control_ack SET
        control_version = (e.data->>'control_version')::integer,
        worker = e.data->>'worker',
        epoch = (e.data->>'epoch')::bigint,
        delay_ms = (e.data->>'delay_ms')::double precision,
        acknowledged_at_utc = e.occurred_at
      WHERE (e.data->>'control_version')::integer >= control_version;
    WHEN 'ProofModeDisableRequested' THEN
      INSERT INTO aol_proof_requests VALUES (e.data->>'request_id', e.data->>'requested_by', e.metadata->>'reason',
        e.occurred_at, (e.data->>'expires_at')::timestamptz, 'PENDING', NULL, NULL);
    WHEN 'ProofModeDisableApproved' THEN
      UPDATE aol_proof_requests SET status = 'APPROVED', decided_by = e.data->>'approved_by', decided_at = e.occurred_at
       WHERE request_id = e.data->>'request_id';
    WHEN 'ProofModeDisableExpired' THEN
      UPDATE aol_proof_requests SET status = 'EXPIRED', decided_at = e.occurred_at
       WHERE request_id = e.data->>'request_id';
    WHEN 'ProductionModeEntered' THEN
      UPDATE aol_deployment SET production = true, changed_at_utc = e.occurred_at;
    WHEN 'ProductionModeCleared' THEN
      UPDATE aol_deployment SET production = false, changed_at_utc = e.occurred_at;
    WHEN 'TestClockSet' THEN
      UPDATE aol_clock SET offset_seconds = (e.data->>'offset_seconds')::double precision;
    WHEN 'ScopedPauseStarted' THEN
      INSERT INTO aol_scoped_pauses VALUES (e.data->>'pause_id',
        CASE WHEN jsonb_typeof(e.data->'action_types') = 'array'
             THEN ARRAY(SELECT jsonb_array_elements_text(e.data->'action_types')) END,
        (e.data->>'until')::timestamptz, e.metadata->>'reason', e.metadata->>'actor', e.occurred_at, NULL, NULL, NULL);
      UPDATE aol_control_flags SET version = e.stream_version, updated_at_utc = e.occurred_at;
    WHEN 'ScopedPauseEnded' THEN
      UPDATE aol_scoped_pauses SET ended_at_utc = e.occurred_at, expired = (e.data->>'expired')::boolean,
             ended_by = e.metadata->>'actor'
       WHERE pause_id = e.data->>'pause_id';
      UPDATE aol_control_flags SET version = e.stream_version, updated_at_utc = e.occurred_at;
    ELSE
      RAISE EXCEPTION 'unknown control event type %', e.type;
  END CASE;
END $$;

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
