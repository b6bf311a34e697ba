-- Trust: database roles, a projection guard no session can switch off, the
-- actor taken from who authenticated, four-eyes and the test clock enforced
-- where every door meets. docs/security.md is the threat model.
--
-- Found by an attack with database credentials (issue 12): the read models'
-- guard rested on the session setting aol.projecting, which any session may
-- SET, so a runbook UPDATE under SET LOCAL aol.projecting = 'on' changed the
-- flags with no event; any role could call aol_append() with an actor of its
-- choosing; four-eyes lived only in the API; the health clock offset moved
-- the approval window in production, unrecorded.
--
-- Now every aol_ table and function belongs to the NOLOGIN role aol_owner.
-- Functions that write run SECURITY DEFINER as aol_owner with a pinned
-- search_path, and "projecting" means current_user = aol_owner: only code
-- running inside those functions is it, and no session can become it
-- without membership in aol_owner (which only the migrating role has).
-- Operators get exactly the runbook's column privileges; their statements
-- are still turned into events by the (now SECURITY DEFINER) triggers.

-- The roles, cluster-wide, created once (CREATE ROLE has no IF NOT EXISTS;
-- two migrations racing on a fresh cluster both get here).
DO $$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['aol_owner', 'aol_auditor', 'aol_operator', 'aol_admin', 'aol_service'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN', r);
      EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL;
      END;
    END IF;
  END LOOP;
END $$;

-- Who is in whom: an admin is an operator, an operator and the service can
-- read what an auditor reads. The migrating role (on Neon the database owner:
-- CREATEROLE, not superuser; it holds ADMIN on the roles it created) joins
-- aol_owner so it can hand its objects over and apply later migrations, and
-- aol_service, so a deployment whose API and worker still use the owner's URL
-- (Neon's default) keeps working: as a member of aol_owner it could do all
-- of that anyway.
DO $$
DECLARE
  g record;
BEGIN
  FOR g IN SELECT * FROM (VALUES ('aol_auditor', 'aol_operator'), ('aol_operator', 'aol_admin'),
                                 ('aol_auditor', 'aol_service'), ('aol_owner', current_user::text),
                                 ('aol_service', current_user::text)) v(grp, member)
  LOOP
    IF g.member <> g.grp AND NOT pg_has_role(g.member, g.grp, 'MEMBER') THEN
      BEGIN
        EXECUTE format('GRANT %I TO %I', g.grp, g.member);
      EXCEPTION WHEN unique_violation OR duplicate_object THEN
        NULL; -- a concurrent migration granted it
      END;
    END IF;
  END LOOP;
  BEGIN
    EXECUTE format('GRANT USAGE, CREATE ON SCHEMA %I TO aol_owner', current_schema());
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO aol_auditor, aol_operator, aol_admin, aol_service', current_schema());
    -- PostgreSQL 14 lets every role create objects in public; nobody but the
    -- owner should be able to put a function or table beside ours.
    EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM PUBLIC', current_schema());
  EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'could not change the privileges of schema %: run this migration as its owner to keep other roles from creating objects in it', current_schema();
  END;
END $$;

-- Production-ness, recorded in the database (ProductionModeEntered when
-- aol migrate, the API or a worker runs with NODE_ENV=production;
-- ProductionModeCleared only by an admin): a read model of the control stream.
CREATE TABLE aol_deployment (
  id             integer     PRIMARY KEY CHECK (id = 1),
  production     boolean     NOT NULL,
  changed_at_utc timestamptz
);
INSERT INTO aol_deployment VALUES (1, false, NULL);

CREATE FUNCTION aol_is_production() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT production FROM aol_deployment WHERE id = 1), false)
$$;

-- The test clock does not exist in production: the offset is ignored there
-- (and refused, below), so no one can move the approval window or health.
CREATE OR REPLACE FUNCTION aol_now() RETURNS timestamptz LANGUAGE sql STABLE AS $$
  SELECT clock_timestamp() + CASE WHEN aol_is_production() THEN interval '0'
    ELSE make_interval(secs => (SELECT offset_seconds FROM aol_clock WHERE id = 1)) END
$$;

-- Projecting = running as aol_owner, i.e. inside one of its SECURITY DEFINER
-- functions. Not a setting: SET aol.projecting now changes nothing.
CREATE OR REPLACE FUNCTION aol_projecting() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT current_user = 'aol_owner'::name
$$;

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

-- The old append, renamed: it trusts the metadata it is given. Only aol_owner
-- may call it (the functions below that build their metadata themselves).
ALTER FUNCTION aol_append_many(text[], integer[], text[], jsonb[], jsonb[]) RENAME TO aol_append_raw;

-- What a role other than the service may append, through the runbook
-- statements or the aol CLI run with its own login role: operator commands,
-- never a worker's events (lease, ticks, attempts) and never the reserved
-- deployment events, which only their own functions write.
CREATE FUNCTION aol_operator_event_types() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
  SELECT ARRAY['ControlPaused', 'ControlResumed', 'ControlKilled', 'ControlRevived', 'ProofModeEnabled',
               'ProofModeDisabled', 'ProofModeDisableRequested', 'ProofModeDisableExpired', 'LeaseForceReleased',
               'ActionEnqueued', 'ActionCancelled', 'ActionRequeued', 'ScopedPauseStarted', 'ScopedPauseEnded']
$$;

-- Every append goes through here (aol_append and aol_append_batch are
-- wrappers; the worker's and the runbook's functions call it too), so these
-- rules hold through every door:
-- * a caller whose session_user is not in aol_service (the API and worker)
--   appends only operator commands, and its events carry actor =
--   session_user; the actor it claimed is kept as metadata.label; via stays
--   'cli' when the CLI says so, else 'sql';
-- * a proof-off request names its requester as the event's actor; an
--   approval needs a pending, unexpired request, an approver who is the
--   event's actor, different from the requester; an operator-level role
--   cannot approve (aol_admin can);
-- * in production, proof mode goes off only as the approved half of a
--   four-eyes request, and the test clock cannot be set.
CREATE FUNCTION aol_append_many(
  p_stream text[], p_expected integer[], p_type text[], p_data jsonb[], p_metadata jsonb[]
) RETURNS SETOF aol_events LANGUAGE plpgsql AS $$
DECLARE
  v_n integer := coalesce(cardinality(p_stream), 0);
  v_service boolean := pg_has_role(session_user, 'aol_service', 'MEMBER');
  v_meta jsonb[] := p_metadata;
  v_prod boolean;
  m jsonb;
  v_actor text;
  r aol_proof_requests;
BEGIN
  IF v_n = 0 THEN
    RETURN;
  END IF;
  PERFORM pg_advisory_xact_lock(7310001);
  v_prod := aol_is_production();
  FOR i IN 1..v_n LOOP
    m := coalesce(p_metadata[i], '{}'::jsonb);
    IF p_type[i] IN ('ProductionModeEntered', 'ProductionModeCleared', 'TestClockSet') THEN
      RAISE EXCEPTION '% is written only by its own function (aol_mark_production, aol_clear_production, UPDATE aol_clock)',
        p_type[i] USING ERRCODE = 'AOL03';
    END IF;
    IF NOT v_service THEN
      IF NOT (p_type[i] = ANY (aol_operator_event_types()) AND pg_has_role(session_user, 'aol_operator', 'MEMBER'))
         AND NOT (p_type[i] IN ('ProofModeDisableApproved', 'LogCheckpointSigned')
                  AND pg_has_role(session_user, 'aol_admin', 'MEMBER')) THEN
        RAISE EXCEPTION 'role % may not append % events: operators (aol_operator) change flags, leases and actions through the runbook SQL and the aol CLI, approvals and signed checkpoints need aol_admin, worker events need aol_service',
          session_user, p_type[i] USING ERRCODE = 'AOL03';
      END IF;
      m := (m - 'actor' - 'via' - 'label')
        || jsonb_build_object('actor', session_user::text, 'via', CASE WHEN m->>'via' = 'cli' THEN 'cli' ELSE 'sql' END)
        || CASE WHEN coalesce(m->>'label', nullif(m->>'actor', session_user::text)) IS NOT NULL
             THEN jsonb_build_object('label', coalesce(m->>'label', m->>'actor')) ELSE '{}'::jsonb END;
      v_meta[i] := m;
    END IF;
    v_actor := m->>'actor';
    IF p_type[i] = 'ProofModeDisableRequested' AND p_data[i]->>'requested_by' IS DISTINCT FROM v_actor THEN
      RAISE EXCEPTION 'a proof-off request is made by its actor (%), not on behalf of %', v_actor, p_data[i]->>'requested_by'
        USING ERRCODE = 'AOL03';
    ELSIF p_type[i] = 'ProofModeDisableApproved' THEN
      SELECT * INTO r FROM aol_proof_requests WHERE request_id = p_data[i]->>'request_id';
      IF NOT FOUND OR r.status <> 'PENDING' OR r.expires_at <= aol_now() THEN
        RAISE EXCEPTION 'no pending, unexpired proof-off request %', p_data[i]->>'request_id' USING ERRCODE = 'AOL01';
      END IF;
      IF r.requested_by = v_actor THEN
        RAISE EXCEPTION 'four-eyes: % requested % and cannot approve it; another identity must', v_actor, r.request_id
          USING ERRCODE = 'AOL03';
      END IF;
      IF p_data[i]->>'approved_by' IS DISTINCT FROM v_actor OR p_data[i]->>'requested_by' IS DISTINCT FROM r.requested_by THEN
        RAISE EXCEPTION 'an approval names its actor (%) as approved_by and the request''s requester (%)', v_actor, r.requested_by
          USING ERRCODE = 'AOL03';
      END IF;
    ELSIF p_type[i] = 'ProofModeDisabled' AND v_prod
          AND NOT (i > 1 AND p_type[i - 1] = 'ProofModeDisableApproved'
                   AND p_data[i - 1]->>'request_id' = p_data[i]->>'request_id') THEN
      RAISE EXCEPTION 'production: proof mode goes off only by a four-eyes request approved by a second identity'
        USING ERRCODE = 'AOL03';
    END IF;
  END LOOP;
  RETURN QUERY SELECT * FROM aol_append_raw(p_stream, p_expected, p_type, p_data, v_meta);
END $$;

-- A production proof-off request by the metadata's actor: the pending,
-- unexpired one if there is one, else a new one (an expired pending one is
-- recorded as expired first). Returns its request id.
CREATE FUNCTION aol_request_proof_off(p_metadata jsonb) RETURNS text LANGUAGE plpgsql AS $$
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
CREATE FUNCTION aol_expire_proof_requests(p_metadata jsonb) RETURNS integer LANGUAGE plpgsql AS $$
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

-- Safe in either direction it can go: production turns guards on. The actor
-- is the session user (the API's, the worker's or the migrating login role).
-- A non-zero test clock is reset first, as an event.
CREATE FUNCTION aol_mark_production(p_via text) RETURNS boolean LANGUAGE plpgsql AS $$
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

CREATE FUNCTION aol_clear_production(p_reason text, p_via text) RETURNS boolean LANGUAGE plpgsql AS $$
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

-- A second identity's approval, for psql (the aol CLI and the API decide in
-- TypeScript and append the same two events). The approver is the session
-- user; aol_append_many() enforces the four-eyes rules.
CREATE FUNCTION aol_approve_proof_off(p_request_id text, p_reason text DEFAULT NULL) RETURNS bigint
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

-- Runbook proof-off in production: a request by the session user, proof
-- mode stays on, and a NOTICE says which request a second identity must
-- approve. Otherwise as before (0002).
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

-- The test clock: UPDATE aol_clock SET offset_seconds = … becomes
-- TestClockSet (via sql, the session user), refused in production.
CREATE FUNCTION aol_clock_runbook() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'UPDATE' OR NEW.id <> OLD.id THEN
    RAISE EXCEPTION 'aol_clock has exactly one row (id = 1); only UPDATE aol_clock SET offset_seconds = … is allowed'
      USING ERRCODE = 'AOL01';
  END IF;
  IF aol_is_production() THEN
    RAISE EXCEPTION 'the test clock is disabled in production (aol_deployment.production)' USING ERRCODE = 'AOL03';
  END IF;
  IF NEW.offset_seconds IS DISTINCT FROM OLD.offset_seconds THEN
    PERFORM aol_append_raw(ARRAY['control'], NULL, ARRAY['TestClockSet'],
      ARRAY[jsonb_build_object('offset_seconds', NEW.offset_seconds, 'previous_offset_seconds', OLD.offset_seconds)],
      ARRAY[aol_sql_metadata()]);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER aol_clock_lock_first BEFORE INSERT OR UPDATE OR DELETE ON aol_clock
  FOR EACH STATEMENT WHEN (NOT aol_projecting()) EXECUTE FUNCTION aol_take_append_lock();
CREATE TRIGGER aol_clock_runbook AFTER INSERT OR UPDATE OR DELETE ON aol_clock
  FOR EACH ROW WHEN (NOT aol_projecting()) EXECUTE FUNCTION aol_clock_runbook();
CREATE TRIGGER aol_clock_no_truncate BEFORE TRUNCATE ON aol_clock
  FOR EACH STATEMENT WHEN (NOT aol_projecting()) EXECUTE FUNCTION aol_read_model_guard();
CREATE TRIGGER aol_deployment_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON aol_deployment
  FOR EACH STATEMENT WHEN (NOT aol_projecting()) EXECUTE FUNCTION aol_read_model_guard();
-- TRUNCATE skips row triggers: the other read models refuse it per statement.
CREATE TRIGGER aol_control_flags_no_truncate BEFORE TRUNCATE ON aol_control_flags
  FOR EACH STATEMENT WHEN (NOT aol_projecting()) EXECUTE FUNCTION aol_read_model_guard();
CREATE TRIGGER aol_control_ack_no_truncate BEFORE TRUNCATE ON aol_control_ack
  FOR EACH STATEMENT WHEN (NOT aol_projecting()) EXECUTE FUNCTION aol_read_model_guard();
CREATE TRIGGER aol_lease_no_truncate BEFORE TRUNCATE ON aol_lease
  FOR EACH STATEMENT WHEN (NOT aol_projecting()) EXECUTE FUNCTION aol_read_model_guard();
CREATE TRIGGER aol_lease_epoch_no_truncate BEFORE TRUNCATE ON aol_lease_epoch
  FOR EACH STATEMENT WHEN (NOT aol_projecting()) EXECUTE FUNCTION aol_read_model_guard();
CREATE TRIGGER aol_actions_no_truncate BEFORE TRUNCATE ON aol_actions
  FOR EACH STATEMENT WHEN (NOT aol_projecting()) EXECUTE FUNCTION aol_read_model_guard();
CREATE TRIGGER aol_queue_counts_no_truncate BEFORE TRUNCATE ON aol_queue_counts
  FOR EACH STATEMENT WHEN (NOT aol_projecting()) EXECUTE FUNCTION aol_read_model_guard();
CREATE TRIGGER aol_proof_requests_no_truncate BEFORE TRUNCATE ON aol_proof_requests
  FOR EACH STATEMENT WHEN (NOT aol_projecting()) EXECUTE FUNCTION aol_read_model_guard();

-- Only the append writes the log, also against a superuser's stray INSERT
-- (a superuser can still disable triggers: the signed checkpoints catch that).
CREATE TRIGGER aol_events_insert_by_append BEFORE INSERT ON aol_events
  FOR EACH STATEMENT WHEN (current_user <> 'aol_owner'::name) EXECUTE FUNCTION aol_events_refuse_change();

-- Hand every aol_ table, sequence and function to aol_owner; functions run
-- SECURITY DEFINER with the search path pinned (pg_temp last, so a session's
-- temporary table can't stand in for ours), except the pure helpers the
-- planner must inline and aol_projecting(), which must see its caller.
-- Later migrations call it again for what they add.
CREATE FUNCTION aol_secure_objects() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  r record;
  v_schema text := current_schema();
BEGIN
  FOR r IN SELECT c.oid::regclass AS rel, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = v_schema AND c.relname LIKE 'aol\_%' AND c.relname <> 'aol_migrations'
              AND c.relkind IN ('r', 'p', 'v', 'S') LOOP
    EXECUTE format('ALTER %s %s OWNER TO aol_owner', CASE WHEN r.relkind = 'S' THEN 'SEQUENCE'
      WHEN r.relkind = 'v' THEN 'VIEW' ELSE 'TABLE' END, r.rel);
    EXECUTE format('REVOKE ALL ON %s FROM PUBLIC', r.rel);
    EXECUTE format('GRANT SELECT ON %s TO aol_auditor', r.rel);
    IF r.relkind = 'S' THEN
      EXECUTE format('GRANT USAGE ON SEQUENCE %s TO aol_service', r.rel);
    END IF;
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS fn, p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = v_schema AND p.proname LIKE 'aol\_%' AND p.proname <> 'aol_secure_objects' LOOP
    EXECUTE format('ALTER FUNCTION %s OWNER TO aol_owner', r.fn);
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', r.fn);
    IF r.proname NOT IN ('aol_append_raw') THEN
      EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO aol_service', r.fn);
    END IF;
    IF r.proname NOT IN ('aol_projecting', 'aol_event_content', 'aol_iso', 'aol_action_status',
                         'aol_action_message', 'aol_action_level', 'aol_worker_metadata', 'aol_operator_event_types') THEN
      EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = %I, pg_temp', r.fn, v_schema);
    END IF;
  END LOOP;
  IF to_regclass('aol_migrations') IS NOT NULL THEN
    EXECUTE 'GRANT SELECT ON aol_migrations TO aol_auditor';
  END IF;
END $$;
SELECT aol_secure_objects();
REVOKE ALL ON FUNCTION aol_secure_objects() FROM PUBLIC;

-- Auditors read and verify.
GRANT EXECUTE ON FUNCTION aol_projecting(), aol_now(), aol_is_production(), aol_health_inputs(), aol_iso(timestamptz),
  aol_event_content(bigint, text, integer, text, jsonb, jsonb, timestamptz), aol_action_status(text),
  aol_action_message(text, jsonb), aol_action_level(text), aol_operator_event_types() TO aol_auditor;
-- Operators: exactly the runbook's statements (their triggers append the
-- events), and the aol CLI's commands, whose events carry their login role.
GRANT UPDATE (paused, killed, proof_mode) ON aol_control_flags TO aol_operator;
GRANT DELETE ON aol_lease TO aol_operator;
GRANT UPDATE (status) ON aol_actions TO aol_operator;
GRANT USAGE ON SEQUENCE aol_action_id_seq TO aol_operator;
GRANT EXECUTE ON FUNCTION aol_append(text, integer, text, jsonb, jsonb), aol_append_batch(jsonb),
  aol_append_many(text[], integer[], text[], jsonb[], jsonb[]) TO aol_operator;
-- Admins: also approval (in aol_append_many), the CLI's force release,
-- clearing production, and the test clock outside production.
GRANT EXECUTE ON FUNCTION aol_lease_force_release(jsonb), aol_clear_production(text, text),
  aol_approve_proof_off(text, text) TO aol_admin;
GRANT UPDATE (offset_seconds) ON aol_clock TO aol_admin;
-- The service (API, worker) runs the worker's functions and stores artifacts.
GRANT INSERT ON aol_artifacts TO aol_service;
