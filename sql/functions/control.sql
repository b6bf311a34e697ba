-- Area: control: the `control` stream and its read models — aol_control_flags
-- (the table the runbook's psql commands know), aol_control_ack (the last
-- ControlAcknowledged), aol_proof_requests (four-eyes proof-off requests),
-- aol_deployment (production-ness: ProductionModeEntered when aol migrate, the
-- API or a worker runs with NODE_ENV=production; ProductionModeCleared only by
-- an admin), aol_clock's offset (TestClockSet; its runbook is in health.sql)
-- and aol_scoped_pauses (scoped, expiring pauses).

-- PL/pgSQL, which keeps its plan for the session: as a SECURITY DEFINER SQL
-- function (aol_secure_objects) it was never inlined and was planned again
-- on every call, ~40 µs, three times per action (docs/benchmarks.md, 3).
CREATE OR REPLACE FUNCTION aol_is_production() RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN coalesce((SELECT production FROM aol_deployment WHERE id = 1), false);
END $$;

-- The control read models a rebuild starts from.
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
  -- created by 0015_scoped_pause.sql (PL/pgSQL resolves it when run, after every migration)
  DELETE FROM aol_scoped_pauses;
END $$;

-- How one control event changes the control read models. Both scoped-pause
-- events change the control version, so the worker acknowledges them like
-- any flag change.
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
    -- scoped pauses: table aol_scoped_pauses, created by 0015_scoped_pause.sql
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

-- The runbook's psql commands, e.g. UPDATE aol_control_flags SET paused = true
-- WHERE id = 1, become events (via = sql, actor = session_user) in the same
-- transaction. The projection then rewrites the row with the event's version
-- and time, so the row is exactly what a rebuild would produce. An UPDATE that
-- flips no flag records nothing. Runbook proof-off in production: a request
-- by the session user, proof mode stays on, and a NOTICE says which request a
-- second identity must approve.
CREATE OR REPLACE FUNCTION aol_control_flags_runbook() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  meta jsonb := aol_sql_metadata();
  v_id text;
BEGIN
  IF TG_OP <> 'UPDATE' THEN
    RAISE EXCEPTION 'aol_control_flags has exactly one row (id = 1); % is refused', TG_OP
      USING ERRCODE = 'AOL01';
  END IF;
  IF NEW.id <> OLD.id OR NEW.version <> OLD.version
     OR NEW.updated_at_utc IS DISTINCT FROM OLD.updated_at_utc THEN
    RAISE EXCEPTION 'only paused, killed and proof_mode of aol_control_flags may be set directly'
      USING ERRCODE = 'AOL01';
  END IF;
  IF NEW.paused <> OLD.paused THEN
    PERFORM aol_append('control', NULL,
      CASE WHEN NEW.paused THEN 'ControlPaused' ELSE 'ControlResumed' END, '{}', meta);
  END IF;
  IF NEW.killed <> OLD.killed THEN
    PERFORM aol_append('control', NULL,
      CASE WHEN NEW.killed THEN 'ControlKilled' ELSE 'ControlRevived' END, '{}', meta);
  END IF;
  IF NEW.proof_mode <> OLD.proof_mode THEN
    IF NOT NEW.proof_mode AND aol_is_production() THEN
      v_id := aol_request_proof_off(meta);
      UPDATE aol_control_flags SET proof_mode = true WHERE id = 1; -- as aol_owner: no event
      RAISE NOTICE 'production: proof mode stays on; proof-off request % must be approved by another identity within 15 minutes (aol proof approve %)',
        v_id, v_id;
    ELSE
      PERFORM aol_append('control', NULL,
        CASE WHEN NEW.proof_mode THEN 'ProofModeEnabled' ELSE 'ProofModeDisabled' END, '{}', meta);
    END IF;
  END IF;
  RETURN NULL;
END $$;

-- Runbook SQL takes row locks before its triggers append, while an appender
-- takes the append lock before it touches read-model rows: the lock_first
-- statement triggers (aol_take_append_lock) keep the two orders the same, so
-- an operator's emergency UPDATE/DELETE never dies in a deadlock.
DROP TRIGGER IF EXISTS aol_control_flags_lock_first ON aol_control_flags;
CREATE TRIGGER aol_control_flags_lock_first BEFORE UPDATE OR INSERT OR DELETE ON aol_control_flags
  FOR EACH STATEMENT WHEN (current_user <> 'aol_owner'::name) EXECUTE FUNCTION aol_take_append_lock();

DROP TRIGGER IF EXISTS aol_control_flags_runbook ON aol_control_flags;
CREATE TRIGGER aol_control_flags_runbook
  AFTER INSERT OR UPDATE OR DELETE ON aol_control_flags
  FOR EACH ROW WHEN (current_user <> 'aol_owner'::name)
  EXECUTE FUNCTION aol_control_flags_runbook();

-- TRUNCATE skips row triggers: the other read models refuse it per statement.
DROP TRIGGER IF EXISTS aol_control_flags_no_truncate ON aol_control_flags;
CREATE TRIGGER aol_control_flags_no_truncate BEFORE TRUNCATE ON aol_control_flags
  FOR EACH STATEMENT WHEN (current_user <> 'aol_owner'::name) EXECUTE FUNCTION aol_read_model_guard();

DROP TRIGGER IF EXISTS aol_control_ack_guard ON aol_control_ack;
CREATE TRIGGER aol_control_ack_guard
  AFTER INSERT OR UPDATE OR DELETE ON aol_control_ack
  FOR EACH ROW WHEN (current_user <> 'aol_owner'::name)
  EXECUTE FUNCTION aol_read_model_guard();

DROP TRIGGER IF EXISTS aol_control_ack_no_truncate ON aol_control_ack;
CREATE TRIGGER aol_control_ack_no_truncate BEFORE TRUNCATE ON aol_control_ack
  FOR EACH STATEMENT WHEN (current_user <> 'aol_owner'::name) EXECUTE FUNCTION aol_read_model_guard();

-- The worker has applied control version p_version: ControlAcknowledged with
-- the delay from the change's commit to now, both in database time. False
-- when fenced (a standby does not acknowledge).
CREATE OR REPLACE FUNCTION aol_ack_control(p_owner text, p_epoch bigint, p_version integer)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  v_at timestamptz;
BEGIN
  IF NOT aol_fence(p_owner, p_epoch, 'ControlAcknowledged', NULL) THEN
    RETURN false;
  END IF;
  SELECT occurred_at INTO v_at FROM aol_events WHERE stream = 'control' AND stream_version = p_version;
  PERFORM aol_append('control', NULL, 'ControlAcknowledged', jsonb_build_object(
    'control_version', p_version, 'worker', p_owner, 'epoch', p_epoch,
    'delay_ms', round((extract(epoch FROM clock_timestamp() - v_at) * 1000)::numeric, 3)),
    aol_worker_metadata(p_owner));
  RETURN true;
END $$;

DROP TRIGGER IF EXISTS aol_proof_requests_guard ON aol_proof_requests;
CREATE TRIGGER aol_proof_requests_guard AFTER INSERT OR UPDATE OR DELETE ON aol_proof_requests
  FOR EACH ROW WHEN (current_user <> 'aol_owner'::name) EXECUTE FUNCTION aol_read_model_guard();

DROP TRIGGER IF EXISTS aol_proof_requests_no_truncate ON aol_proof_requests;
CREATE TRIGGER aol_proof_requests_no_truncate BEFORE TRUNCATE ON aol_proof_requests
  FOR EACH STATEMENT WHEN (current_user <> 'aol_owner'::name) EXECUTE FUNCTION aol_read_model_guard();

-- A production proof-off request by the metadata's actor: the pending,
-- unexpired one if there is one, else a new one (an expired pending one is
-- recorded as expired first). Returns its request id.
CREATE OR REPLACE FUNCTION aol_request_proof_off(p_metadata jsonb) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  r aol_proof_requests;
  v_id text := gen_random_uuid()::text;
BEGIN
  PERFORM pg_advisory_xact_lock(7310001);
  SELECT * INTO r FROM aol_proof_requests WHERE status = 'PENDING' ORDER BY requested_at DESC LIMIT 1;
  IF FOUND AND r.expires_at > aol_now() THEN
    RETURN r.request_id;
  END IF;
  IF FOUND THEN
    PERFORM aol_append('control', NULL, 'ProofModeDisableExpired',
      jsonb_build_object('request_id', r.request_id, 'requested_by', r.requested_by), p_metadata);
  END IF;
  PERFORM aol_append('control', NULL, 'ProofModeDisableRequested', jsonb_build_object(
    'request_id', v_id, 'requested_by', p_metadata->>'actor',
    'expires_at', aol_iso(aol_now() + interval '15 minutes')), p_metadata);
  RETURN v_id;
END $$;

-- ProofModeDisableExpired is recorded when the window closes: the API and the
-- worker call this on a timer. Returns how many requests expired.
CREATE OR REPLACE FUNCTION aol_expire_proof_requests(p_metadata jsonb) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  r aol_proof_requests;
  n integer := 0;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM aol_proof_requests WHERE status = 'PENDING' AND expires_at <= aol_now()) THEN
    RETURN 0; -- the common case, without the append lock
  END IF;
  PERFORM pg_advisory_xact_lock(7310001);
  FOR r IN SELECT * FROM aol_proof_requests WHERE status = 'PENDING' AND expires_at <= aol_now() ORDER BY requested_at LOOP
    PERFORM aol_append('control', NULL, 'ProofModeDisableExpired',
      jsonb_build_object('request_id', r.request_id, 'requested_by', r.requested_by),
      p_metadata || jsonb_build_object('reason', 'approval window of 15 minutes passed'));
    n := n + 1;
  END LOOP;
  RETURN n;
END $$;

-- A second identity's approval, for psql (the aol CLI and the API decide in
-- TypeScript and append the same two events). The approver is the session
-- user; aol_append_many() enforces the four-eyes rules.
CREATE OR REPLACE FUNCTION aol_approve_proof_off(p_request_id text, p_reason text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  r aol_proof_requests;
  m jsonb := aol_sql_metadata();
  v_seq bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(7310001);
  SELECT * INTO r FROM aol_proof_requests WHERE request_id = p_request_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no such proof-off request %', p_request_id USING ERRCODE = 'AOL01';
  END IF;
  IF p_reason IS NOT NULL THEN
    m := m || jsonb_build_object('reason', p_reason);
  END IF;
  SELECT max(e.seq) INTO v_seq FROM aol_append_many(ARRAY['control', 'control'], NULL,
    ARRAY['ProofModeDisableApproved', 'ProofModeDisabled'],
    ARRAY[jsonb_build_object('request_id', r.request_id, 'requested_by', r.requested_by, 'approved_by', session_user::text),
          jsonb_build_object('request_id', r.request_id, 'requested_by', r.requested_by)],
    ARRAY[m, m]) e;
  RETURN v_seq;
END $$;

-- Safe in either direction it can go: production turns guards on. The actor
-- is the session user (the API's, the worker's or the migrating login role).
-- A non-zero test clock is reset first, as an event.
CREATE OR REPLACE FUNCTION aol_mark_production(p_via text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  v_offset double precision;
  m jsonb := jsonb_build_object('actor', session_user::text,
    'via', CASE WHEN p_via IN ('api', 'cli', 'worker') THEN p_via ELSE 'sql' END,
    'reason', 'started with NODE_ENV=production');
BEGIN
  PERFORM pg_advisory_xact_lock(7310001);
  IF aol_is_production() THEN
    RETURN false;
  END IF;
  SELECT offset_seconds INTO v_offset FROM aol_clock WHERE id = 1;
  IF v_offset <> 0 THEN
    PERFORM aol_append_raw(ARRAY['control'], NULL, ARRAY['TestClockSet'],
      ARRAY[jsonb_build_object('offset_seconds', 0, 'previous_offset_seconds', v_offset)], ARRAY[m]);
  END IF;
  PERFORM aol_append_raw(ARRAY['control'], NULL, ARRAY['ProductionModeEntered'], ARRAY['{}'::jsonb], ARRAY[m]);
  RETURN true;
END $$;

CREATE OR REPLACE FUNCTION aol_clear_production(p_reason text, p_via text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF NOT pg_has_role(session_user, 'aol_admin', 'MEMBER') THEN
    RAISE EXCEPTION 'only an admin (aol_admin) may clear production mode' USING ERRCODE = 'AOL03';
  END IF;
  IF coalesce(btrim(p_reason), '') = '' THEN
    RAISE EXCEPTION 'a reason is required to clear production mode' USING ERRCODE = 'AOL01';
  END IF;
  PERFORM pg_advisory_xact_lock(7310001);
  IF NOT aol_is_production() THEN
    RETURN false;
  END IF;
  PERFORM aol_append_raw(ARRAY['control'], NULL, ARRAY['ProductionModeCleared'], ARRAY['{}'::jsonb],
    ARRAY[jsonb_build_object('actor', session_user::text,
      'via', CASE WHEN p_via = 'cli' THEN 'cli' ELSE 'sql' END, 'reason', p_reason)]);
  RETURN true;
END $$;

DROP TRIGGER IF EXISTS aol_deployment_guard ON aol_deployment;
CREATE TRIGGER aol_deployment_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON aol_deployment
  FOR EACH STATEMENT WHEN (current_user <> 'aol_owner'::name) EXECUTE FUNCTION aol_read_model_guard();

DROP TRIGGER IF EXISTS aol_scoped_pauses_guard ON aol_scoped_pauses;
CREATE TRIGGER aol_scoped_pauses_guard AFTER INSERT OR UPDATE OR DELETE ON aol_scoped_pauses
  FOR EACH ROW WHEN (current_user <> 'aol_owner'::name) EXECUTE FUNCTION aol_read_model_guard();

-- End every active pause whose deadline has passed (database clock), one
-- ScopedPauseEnded {expired: true} each. The caller holds the append lock
-- (the claim's fence takes it), so two callers cannot both end one pause.
CREATE OR REPLACE FUNCTION aol_expire_scoped_pauses(p_actor text) RETURNS integer LANGUAGE plpgsql AS $$
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
