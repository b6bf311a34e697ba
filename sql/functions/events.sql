-- Area: events: the event store (migration 0001's aol_events), its append,
-- the projection dispatcher and the rebuild, and the helpers every area uses.
-- Applied by the migrator after the migrations, on every migrate, in the order
-- of sql/functions/README.md; each object here is its one current definition.
--
-- Projections: each area defines aol_apply_<area>() or aol_apply_<areas>()
-- (how its events change its read models) and aol_reset_<area>() (the empty
-- read models a rebuild starts from). aol_apply_events() runs inside every
-- append, so every writer (Node, the runbook triggers, a rebuild) projects
-- through the same code and a read model is always in step with the log.

-- Append-only, for every role: only a superuser disabling the triggers can
-- change history, and aol events verify finds that.
CREATE OR REPLACE FUNCTION aol_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'aol_events is append-only: % refused', TG_OP
    USING ERRCODE = 'AOL01';
END $$;

DROP TRIGGER IF EXISTS aol_events_no_update ON aol_events;
CREATE TRIGGER aol_events_no_update BEFORE UPDATE OR DELETE ON aol_events
  FOR EACH ROW EXECUTE FUNCTION aol_events_refuse_change();

DROP TRIGGER IF EXISTS aol_events_no_truncate ON aol_events;
CREATE TRIGGER aol_events_no_truncate BEFORE TRUNCATE ON aol_events
  FOR EACH STATEMENT EXECUTE FUNCTION aol_events_refuse_change();

-- Only the append writes the log, also against a superuser's stray INSERT
-- (a superuser can still disable triggers: the signed checkpoints catch that).
DROP TRIGGER IF EXISTS aol_events_insert_by_append ON aol_events;
CREATE TRIGGER aol_events_insert_by_append BEFORE INSERT ON aol_events
  FOR EACH STATEMENT WHEN (current_user <> 'aol_owner'::name) EXECUTE FUNCTION aol_events_refuse_change();

-- Read models are written only by the projection (aol_apply_events(), run
-- inside every append and by aol_rebuild()); a direct write that
-- no runbook trigger turns into an event is refused, so no table drifts from
-- the log.
CREATE OR REPLACE FUNCTION aol_read_model_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is a read model projected from aol_events; direct % is refused',
    TG_TABLE_NAME, TG_OP USING ERRCODE = 'AOL01';
END $$;

-- Projecting = running as aol_owner, i.e. inside one of its SECURITY DEFINER
-- functions. Not a setting: SET aol.projecting changes nothing. Every trigger
-- of a read model or of the log that only an outside write may fire says so
-- with the same condition, WHEN (current_user <> 'aol_owner'::name): a
-- builtin comparison, where a SQL function (aol_projecting(), before issue
-- 17) was inlined — its body parsed — again for each trigger of each
-- statement (8 % of a 2-event projection, perf; 262 → 217 µs per
-- aol_apply_actions, docs/benchmarks.md §3), and no role can replace it.

-- Runbook SQL takes row locks before its triggers append, while an appender
-- takes the append lock before it touches read-model rows. A statement-level
-- trigger that takes the append lock first keeps the two orders the same, so
-- an operator's emergency UPDATE/DELETE never dies in a deadlock.
CREATE OR REPLACE FUNCTION aol_take_append_lock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7310001);
  RETURN NULL;
END $$;

-- The canonical content an event's hash covers. jsonb's text form is
-- deterministic (keys sorted, whitespace normalised), so the verifier can ask
-- Postgres for the same text and hash it independently in Node. STABLE, as
-- to_char() is, so the planner can inline it into the batch's set-based query
-- in aol_append_raw() (an IMMUTABLE function calling STABLE ones is run
-- through the SQL-function executor, once per row).
CREATE OR REPLACE FUNCTION aol_event_content(
  p_seq bigint, p_stream text, p_version integer, p_type text,
  p_data jsonb, p_metadata jsonb, p_occurred_at timestamptz
) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT p_seq::text || '|' || p_stream || '|' || p_version::text || '|' || p_type || '|'
      || p_data::text || '|' || p_metadata::text || '|'
      || to_char(p_occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

-- Timestamps inside event data: UTC, microseconds, ISO-8601.
CREATE OR REPLACE FUNCTION aol_iso(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

-- ISO 8601 with milliseconds, as JavaScript's toISOString() writes it (an
-- `until` given through the API reads back exactly as it was sent).
CREATE OR REPLACE FUNCTION aol_iso_ms(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- Who did it, for rows changed by runbook SQL: the database session user, via sql.
CREATE OR REPLACE FUNCTION aol_sql_metadata() RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'actor', session_user::text,
    'via', 'sql',
    'reason', coalesce(nullif(current_setting('aol.reason', true), ''), 'runbook SQL'))
$$;

-- STABLE, as jsonb_build_object() is, so the planner inlines it (an
-- IMMUTABLE function calling STABLE ones is planned again on every call).
CREATE OR REPLACE FUNCTION aol_worker_metadata(p_owner text) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('actor', p_owner, 'via', 'worker')
$$;

-- What a role other than the service may append, through the runbook
-- statements or the aol CLI run with its own login role: operator commands,
-- never a worker's events (lease, ticks, attempts) and never the reserved
-- deployment events, which only their own functions write.
CREATE OR REPLACE FUNCTION aol_operator_event_types() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
  SELECT ARRAY['ControlPaused', 'ControlResumed', 'ControlKilled', 'ControlRevived', 'ProofModeEnabled',
               'ProofModeDisabled', 'ProofModeDisableRequested', 'ProofModeDisableExpired', 'LeaseForceReleased',
               'ActionEnqueued', 'ActionCancelled', 'ActionRequeued', 'ScopedPauseStarted', 'ScopedPauseEnded',
               'ScheduleCreated', 'SchedulePaused', 'ScheduleResumed', 'ScheduleDeleted']
$$;

-- The append itself. Appends are serialised by a transaction-scoped advisory
-- lock (7310001), held until the appending transaction commits; a transaction
-- becomes visible before its locks are released, so the next appender can only
-- assign seq + 1 after seq is already visible. Readers that page by "seq > last
-- seen" therefore never miss an event that commits later with a lower seq, and
-- seq has no gaps. The same serial order makes the hash chain well defined
-- (docs/architecture.md). A whole batch is appended under the lock with one
-- head lookup, its hashes chained in one pass, one INSERT, and projected
-- set-based by aol_apply_events(); every event of a batch gets the same
-- occurred_at (database time after taking the lock).
--
-- Append events in array order (the arrays are parallel; p_expected may be
-- NULL, or hold NULL for "any version"). A version mismatch raises AOL09.
-- It trusts the metadata it is given: only aol_owner may call it (through
-- aol_append_many() and the functions that build their metadata themselves).
CREATE OR REPLACE FUNCTION aol_append_raw(
  p_stream text[], p_expected integer[], p_type text[], p_data jsonb[], p_metadata jsonb[]
) RETURNS SETOF aol_events LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  v_n integer := coalesce(cardinality(p_stream), 0);
  v_head aol_events;
  v_at timestamptz;
  v_seq bigint[];
  v_version integer[];
  v_data jsonb[];
  v_metadata jsonb[];
  v_content text[];
  v_prev text[];
  v_hash text[];
  v_ats timestamptz[];
  v_h text;
BEGIN
  IF v_n = 0 THEN
    RETURN;
  END IF;
  PERFORM pg_advisory_xact_lock(7310001);
  SELECT * INTO v_head FROM aol_events ORDER BY seq DESC LIMIT 1;
  v_at := clock_timestamp();
  -- seq follows the head; each event's stream version is its stream's head
  -- plus its place among the batch's events on that stream
  SELECT array_agg(x.seq ORDER BY x.i), array_agg(x.version ORDER BY x.i),
         array_agg(x.data ORDER BY x.i), array_agg(x.metadata ORDER BY x.i),
         array_agg(aol_event_content(x.seq, x.stream, x.version, x.type, x.data, x.metadata, v_at) ORDER BY x.i)
    INTO v_seq, v_version, v_data, v_metadata, v_content
    FROM (
      SELECT u.i, coalesce(v_head.seq, 0) + u.i AS seq, u.stream, u.type,
             coalesce(u.data, '{}'::jsonb) AS data, coalesce(u.metadata, '{}'::jsonb) AS metadata,
             coalesce((SELECT max(s.stream_version) FROM aol_events s WHERE s.stream = u.stream), 0)
               + (row_number() OVER (PARTITION BY u.stream ORDER BY u.i))::integer AS version
        FROM unnest(p_stream, p_type, p_data, p_metadata) WITH ORDINALITY AS u(stream, type, data, metadata, i)
    ) x;
  -- a partition is always ready beyond the head (0020): this creates one every so often. The
  -- session remembers below which seq that holds and the partition that makes it so; the check
  -- is skipped while the head is below it and that partition exists (it may not, if the
  -- transaction that made it rolled back)
  IF coalesce(substring(current_setting('aol.events_ready_below', true) FROM '^[0-9]{1,18}$'), '0')::bigint
       <= coalesce(v_head.seq, 0) + v_n
     OR to_regclass(coalesce(nullif(current_setting('aol.events_last_partition', true), ''), '-')) IS NULL THEN
    PERFORM aol_events_ensure_partitions(coalesce(v_head.seq, 0) + v_n);
  END IF;
  v_h := coalesce(v_head.hash, repeat('0', 64));
  FOR i IN 1..v_n LOOP
    IF p_expected[i] IS NOT NULL AND p_expected[i] <> v_version[i] - 1 THEN
      RAISE EXCEPTION 'stream % is at version %, expected %', p_stream[i], v_version[i] - 1, p_expected[i]
        USING ERRCODE = 'AOL09';
    END IF;
    v_prev[i] := v_h;
    v_h := encode(sha256(convert_to(v_h || v_content[i], 'UTF8')), 'hex');
    v_hash[i] := v_h;
  END LOOP;
  v_ats := array_fill(v_at, ARRAY[v_n]);
  INSERT INTO aol_events
  SELECT * FROM unnest(v_seq, p_stream, v_version, p_type, v_data, v_metadata, v_ats, v_prev, v_hash);
  PERFORM aol_apply_events(v_seq, p_stream, v_version, p_type, v_data, v_metadata, v_ats);
  -- Delivered at commit, never for a rolled-back append. Only a pointer:
  -- consumers re-read the table from their last seq (it now carries the
  -- stream version too).
  PERFORM pg_notify('aol_events', json_build_object('stream', e.stream, 'seq', e.seq, 'type', e.type,
    'version', e.version)::text)
     FROM unnest(v_seq, p_stream, p_type, v_version) e(seq, stream, type, version);
  RETURN QUERY SELECT * FROM unnest(v_seq, p_stream, v_version, p_type, v_data, v_metadata, v_ats, v_prev, v_hash);
END $$;

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
CREATE OR REPLACE FUNCTION aol_append_many(
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

-- Append one event (p_expected: the stream version the caller decided on,
-- NULL: any; a mismatch raises AOL09, which callers map to a 409).
CREATE OR REPLACE FUNCTION aol_append(
  p_stream text, p_expected integer, p_type text, p_data jsonb, p_metadata jsonb
) RETURNS aol_events LANGUAGE sql AS $$
  SELECT * FROM aol_append_many(ARRAY[p_stream], ARRAY[p_expected], ARRAY[p_type], ARRAY[p_data], ARRAY[p_metadata])
$$;

-- Append several events in one round trip, in array order. Each element:
-- {stream, expected_version?, type, data, metadata}.
CREATE OR REPLACE FUNCTION aol_append_batch(p_events jsonb) RETURNS SETOF aol_events LANGUAGE sql AS $$
  SELECT * FROM aol_append_many(
    ARRAY(SELECT x->>'stream' FROM jsonb_array_elements(p_events) WITH ORDINALITY j(x, i) ORDER BY i),
    ARRAY(SELECT (x->>'expected_version')::integer FROM jsonb_array_elements(p_events) WITH ORDINALITY j(x, i) ORDER BY i),
    ARRAY(SELECT x->>'type' FROM jsonb_array_elements(p_events) WITH ORDINALITY j(x, i) ORDER BY i),
    ARRAY(SELECT x->'data' FROM jsonb_array_elements(p_events) WITH ORDINALITY j(x, i) ORDER BY i),
    ARRAY(SELECT x->'metadata' FROM jsonb_array_elements(p_events) WITH ORDINALITY j(x, i) ORDER BY i))
$$;

-- Project a batch of events of any streams, in seq order. The areas write
-- disjoint tables, so each area can take its events in one go.
CREATE OR REPLACE FUNCTION aol_apply_events(
  p_seq bigint[], p_stream text[], p_version integer[], p_type text[], p_data jsonb[], p_metadata jsonb[],
  p_at timestamptz[]
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  e aol_events;
  v_was text := current_setting('aol.projecting', true);
  v_folds boolean;
  v_ticks boolean;
  v_actions boolean;
BEGIN
  PERFORM set_config('aol.projecting', 'on', true);
  SELECT bool_or(x.stream IN ('control', 'lease', 'schedule')), bool_or(x.stream = 'tick'), bool_or(x.stream LIKE 'action:%')
    INTO v_folds, v_ticks, v_actions FROM unnest(p_stream) x(stream);
  IF v_folds THEN
    FOR e IN SELECT x.*, NULL, NULL
               FROM unnest(p_seq, p_stream, p_version, p_type, p_data, p_metadata, p_at)
                    x(seq, stream, stream_version, type, data, metadata, occurred_at)
              WHERE x.stream IN ('control', 'lease', 'schedule') ORDER BY x.seq LOOP
      IF e.stream = 'control' THEN
        PERFORM aol_apply_control(e);
      ELSIF e.stream = 'schedule' THEN
        PERFORM aol_apply_schedule(e);
      ELSE
        PERFORM aol_apply_lease(e);
      END IF;
    END LOOP;
  END IF;
  IF v_ticks THEN
    PERFORM aol_apply_ticks(p_seq, p_stream, p_type, p_data);
  END IF;
  IF v_actions THEN
    PERFORM aol_apply_actions(p_seq, p_stream, p_type, p_data, p_at);
  END IF;
  PERFORM set_config('aol.projecting', coalesce(nullif(v_was, ''), 'off'), true);
END $$;

-- Rebuild every read model from the log, in one transaction, through the
-- same projection the appends use, p_chunk events at a time. Holding the
-- append lock keeps writers out, so the result is the state as of the last event.
-- The lease's liveness columns are not in the log (renewals are not events):
-- the live lease keeps them when the log gives back the same owner and epoch,
-- so a rebuild never expires a lease that is being renewed.
--
-- Three steps, as the areas read and write disjoint tables (no area but the
-- actions' touches aol_actions, aol_execution_logs or aol_queue_counts, and
-- aol_apply_actions reads nothing else):
-- 1. every stream but the actions', in seq order, p_chunk seqs at a time;
-- 2. the action streams, whole: p_chunk events in (stream, seq) order from
--    the aol_events_stream_seq index, plus the rest of the last stream, so
--    each action's events are folded in one call into its final row, which
--    aol_apply_actions(…, p_rebuild) upserts — a row already right is left
--    alone (docs/benchmarks.md §5). The `action:<id>` streams are the first
--    in any collation (the others: alert, control, lease, log, schedule,
--    tick), so the walk ends at the first other stream; both passes together
--    must have projected every seq, else the rebuild fails;
-- 3. the execution log, one row per action event, in one merge with the log.
-- aol_actions is reconciled, not emptied: rows of actions the log does not
-- enqueue are deleted at the end. Should a wrong row hold an idempotency key
-- the log gives another action (unique_violation), pass 2 runs again on an
-- emptied aol_actions.
CREATE OR REPLACE FUNCTION aol_rebuild(p_chunk integer DEFAULT 10000) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_head bigint;
  v_from bigint := 1;
  v_seq bigint[];
  v_stream text[];
  v_version integer[];
  v_type text[];
  v_data jsonb[];
  v_metadata jsonb[];
  v_at timestamptz[];
  v_lease aol_lease;
  v_archived aol_events;
  v_others bigint := 0;
  v_actions bigint;
  v_n integer;
  v_last text;
  v_end boolean;
  v_enqueued bigint[];
  v_ids bigint[];
  v_constraint text;
BEGIN
  PERFORM pg_advisory_xact_lock(7310001);
  PERFORM set_config('aol.projecting', 'on', true);
  SELECT * INTO v_lease FROM aol_lease;
  PERFORM aol_reset_control();
  PERFORM aol_reset_lease();
  PERFORM aol_reset_tick();
  PERFORM aol_reset_action();
  PERFORM aol_reset_schedule();
  v_head := coalesce((SELECT max(seq) FROM aol_events), 0);
  v_from := coalesce((SELECT min(seq) FROM aol_events), 1);
  IF v_from > 1 THEN
    -- 0020: the prefix lives only in the archive; a fold of what is left would be a wrong state
    SELECT * INTO v_archived FROM aol_events WHERE type = 'LogSegmentArchived' ORDER BY seq DESC LIMIT 1;
    RAISE EXCEPTION 'cannot rebuild from the live log: it starts at seq % because events 1..% were archived (LogSegmentArchived at seq %, manifest sha256 %); the state needs those events: replay from the archive (aol events replay --archive DIR) instead',
      v_from, v_from - 1, v_archived.seq, coalesce(v_archived.data->>'manifest_sha256', '?') USING ERRCODE = 'AOL01';
  END IF;
  -- 1. The streams other than the actions' — those aol_events_stream_check
  -- allows — through the (stream, seq) index, so the action events between
  -- them are not read here (they are pass 2's): reading every row of each
  -- chunk to skip the actions' was a second full read of the log. A stream
  -- missing from the list is not projected and fails the count below.
  WHILE v_from <= v_head LOOP -- seq is gapless
    -- in seq order from the sorted subquery: seven ORDER BYs inside the
    -- aggregates were seven sorts of the chunk (PostgreSQL 15)
    SELECT array_agg(e.seq), array_agg(e.stream), array_agg(e.stream_version),
           array_agg(e.type), array_agg(e.data), array_agg(e.metadata), array_agg(e.occurred_at)
      INTO v_seq, v_stream, v_version, v_type, v_data, v_metadata, v_at
      FROM (SELECT * FROM aol_events e
             WHERE e.stream = ANY (ARRAY['alert', 'control', 'lease', 'log', 'schedule', 'tick'])
               AND e.seq >= v_from AND e.seq < v_from + p_chunk ORDER BY e.seq) e;
    IF v_seq IS NOT NULL THEN
      PERFORM aol_apply_events(v_seq, v_stream, v_version, v_type, v_data, v_metadata, v_at);
      v_others := v_others + cardinality(v_seq);
    END IF;
    v_from := v_from + p_chunk;
  END LOOP;
  -- 2.
  FOR v_try IN 1..2 LOOP
    BEGIN
      v_actions := 0;
      v_last := 'action:';
      v_ids := '{}';
      LOOP
        WITH c AS (
          SELECT * FROM aol_events e WHERE e.stream > v_last ORDER BY e.stream, e.seq LIMIT p_chunk
        ),
        tail AS (SELECT c.stream, c.seq FROM c ORDER BY c.stream DESC, c.seq DESC LIMIT 1),
        -- the rest of the last stream, which the LIMIT may have cut
        rest AS (
          SELECT e.* FROM tail, aol_events e
           WHERE e.stream = tail.stream AND e.seq > tail.seq AND tail.stream LIKE 'action:%'
        ),
        batch AS (SELECT * FROM c UNION ALL SELECT * FROM rest)
        -- a last row of another stream: the walk has passed the action streams
        SELECT array_agg(b.seq), array_agg(b.stream), array_agg(b.type), array_agg(b.data), array_agg(b.occurred_at),
               array_agg(substr(b.stream, 8)::bigint) FILTER (WHERE b.type = 'ActionEnqueued'),
               (SELECT count(*) FROM c), (SELECT tail.stream NOT LIKE 'action:%' FROM tail), (SELECT tail.stream FROM tail)
          INTO v_seq, v_stream, v_type, v_data, v_at, v_enqueued, v_n, v_end, v_last
          FROM batch b WHERE b.stream LIKE 'action:%';
        EXIT WHEN v_n = 0;
        IF v_seq IS NOT NULL THEN
          PERFORM aol_apply_actions(v_seq, v_stream, v_type, v_data, v_at, true);
          v_actions := v_actions + cardinality(v_seq);
          v_ids := v_ids || coalesce(v_enqueued, '{}');
        END IF;
        EXIT WHEN v_end OR v_n < p_chunk;
      END LOOP;
      -- the rows of actions the log does not enqueue
      DELETE FROM aol_actions a WHERE NOT EXISTS (SELECT FROM unnest(v_ids) k(id) WHERE k.id = a.id);
      EXIT;
    EXCEPTION WHEN unique_violation THEN
      GET STACKED DIAGNOSTICS v_constraint = CONSTRAINT_NAME;
      IF v_try = 2 OR v_constraint IS DISTINCT FROM 'aol_actions_idempotency_key_key' THEN
        RAISE;
      END IF;
      DELETE FROM aol_actions;
    END;
  END LOOP;
  -- 3. The execution log, a function of each action event alone (the columns
  -- of aol_apply_actions' `logged`), reconciled in one merge of the two seq
  -- orders (the pkeys): a row no action event makes is deleted, a missing or
  -- changed one written, a right one left alone. Upserted chunk by chunk in
  -- pass 2 it was a third of the rebuild.
  WITH made AS (
    SELECT e.seq, substr(e.stream, 8)::bigint AS action_id, e.occurred_at AS ts_utc, aol_action_level(e.type) AS level,
           aol_action_message(e.type, e.data) AS message, e.data->>'artifact_ref' AS artifact_ref,
           e.data->>'artifact_sha256' AS artifact_sha256
      FROM aol_events e WHERE e.stream LIKE 'action:%'
  ),
  wrong AS MATERIALIZED (
    SELECT m.*, l.seq AS logged_seq FROM made m FULL JOIN aol_execution_logs l ON l.seq = m.seq
     WHERE (m.seq, m.action_id, m.ts_utc, m.level, m.message, m.artifact_ref, m.artifact_sha256)
           IS DISTINCT FROM (l.seq, l.action_id, l.ts_utc, l.level, l.message, l.artifact_ref, l.artifact_sha256)
  ),
  stray AS (
    DELETE FROM aol_execution_logs l USING wrong w WHERE w.seq IS NULL AND l.seq = w.logged_seq
  )
  INSERT INTO aol_execution_logs AS l
  SELECT w.seq, w.action_id, w.ts_utc, w.level, w.message, w.artifact_ref, w.artifact_sha256 FROM wrong w WHERE w.seq IS NOT NULL
  ON CONFLICT (seq) DO UPDATE SET action_id = EXCLUDED.action_id, ts_utc = EXCLUDED.ts_utc, level = EXCLUDED.level,
    message = EXCLUDED.message, artifact_ref = EXCLUDED.artifact_ref, artifact_sha256 = EXCLUDED.artifact_sha256;
  IF v_others + v_actions <> v_head THEN
    RAISE EXCEPTION 'rebuild: % events projected (% of the action streams, % of the others), the log holds %',
      v_others + v_actions, v_actions, v_others, v_head;
  END IF;
  IF v_lease.epoch IS NOT NULL THEN
    UPDATE aol_lease SET renewed_at_utc = greatest(renewed_at_utc, v_lease.renewed_at_utc),
                         expires_at_utc = greatest(expires_at_utc, v_lease.expires_at_utc)
     WHERE owner = v_lease.owner AND epoch = v_lease.epoch;
  END IF;
  PERFORM set_config('aol.projecting', 'off', true);
  RETURN v_head;
END $$;

-- Partitions of aol_events (issue 15, migrations/0020): made ahead by the
-- append, dropped only by aol_archive_segment().
-- How many seqs a new partition holds: the database's setting
-- aol.events_partition_rows (ALTER DATABASE … SET), else 100,000.
CREATE OR REPLACE FUNCTION aol_events_partition_rows() RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN v ~ '^[0-9]{1,10}$' THEN greatest(10, least(1000000000, v::bigint)) ELSE 100000 END
    FROM coalesce(current_setting('aol.events_partition_rows', true), '') v
$$;

-- The live partitions, oldest first: name and seq range [first_seq, end_seq).
CREATE OR REPLACE FUNCTION aol_events_partitions()
RETURNS TABLE (partition text, first_seq bigint, end_seq bigint) LANGUAGE sql STABLE AS $$
  SELECT c.relname::text, b[1]::bigint, b[2]::bigint
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid,
         regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''?(-?[0-9]+)''?\) TO \(''?(-?[0-9]+)''?\)') b
   WHERE i.inhparent = 'aol_events'::regclass
   ORDER BY 2
$$;

-- One partition [p_from, p_to), created empty and then attached (SHARE UPDATE
-- EXCLUSIVE on the parent, so appends and reads go on), with the statement
-- triggers a partition does not inherit: TRUNCATE and INSERT refused on it too.
CREATE OR REPLACE FUNCTION aol_events_create_partition(p_from bigint, p_to bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_name text := format('aol_events_%s', lpad(p_from::text, 12, '0'));
BEGIN
  -- only the next partition, right after the last (so no caller can leave a hole the append would
  -- fall into)
  IF p_from IS DISTINCT FROM (SELECT upper FROM aol_events_horizon WHERE id = 1) OR NOT p_to > p_from THEN
    RAISE EXCEPTION 'the next partition of aol_events starts at seq %, not %', (SELECT upper FROM aol_events_horizon WHERE id = 1), p_from
      USING ERRCODE = 'AOL01';
  END IF;
  EXECUTE format('CREATE TABLE %I (LIKE aol_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', v_name);
  EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (seq >= %s AND seq < %s)', v_name, v_name || '_range', p_from, p_to);
  EXECUTE format('ALTER TABLE aol_events ATTACH PARTITION %I FOR VALUES FROM (%s) TO (%s)', v_name, p_from, p_to);
  EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', v_name, v_name || '_range');
  PERFORM aol_events_guard_partitions();
  EXECUTE format('REVOKE ALL ON %I FROM PUBLIC', v_name);
  EXECUTE format('GRANT SELECT ON %I TO aol_auditor', v_name);
  UPDATE aol_events_horizon SET upper = greatest(upper, p_to) WHERE id = 1;
END $$;

-- Called by every append with the highest seq it will write: keeps one whole
-- partition ready beyond it (so the attach happens ahead, once per partition).
CREATE OR REPLACE FUNCTION aol_events_ensure_partitions(p_upto bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_hi bigint := (SELECT upper FROM aol_events_horizon WHERE id = 1);
  v_width bigint;
BEGIN
  v_width := aol_events_partition_rows();
  WHILE v_hi <= p_upto + v_width LOOP
    PERFORM aol_events_create_partition(v_hi, v_hi + v_width);
    v_hi := v_hi + v_width;
  END LOOP;
  -- Until the head reaches v_hi - v_width a whole partition stays ready: this session's appends
  -- skip the check until then, while the last partition exists (aol_append_raw).
  PERFORM set_config('aol.events_ready_below', (v_hi - v_width)::text, false);
  PERFORM set_config('aol.events_last_partition',
    (SELECT x.partition FROM aol_events_partitions() x ORDER BY x.first_seq DESC LIMIT 1), false);
END $$;

-- Archiving (aol events archive, docs/operations.md): the only way events leave
-- the live table. p_data is the LogSegmentArchived record the CLI built from
-- the manifest it wrote and signed: {first_seq, last_seq, first_prev_hash,
-- last_hash, count, manifest_sha256, files, key_id}. It must describe exactly
-- the live events from the first one through p_data.last_seq, which must end
-- a partition below the head's. In one transaction: the event is appended,
-- then those partitions are detached and dropped.
CREATE OR REPLACE FUNCTION aol_archive_segment(p_data jsonb, p_reason text, p_via text) RETURNS aol_events
LANGUAGE plpgsql AS $$
DECLARE
  v_last_seq bigint;
  v_first aol_events;
  v_last aol_events;
  v_head bigint;
  e aol_events;
  p record;
  v_bounds text;
BEGIN
  IF NOT pg_has_role(session_user, 'aol_admin', 'MEMBER') THEN
    RAISE EXCEPTION 'only an admin (aol_admin) may archive events out of the live log' USING ERRCODE = 'AOL03';
  END IF;
  IF jsonb_typeof(p_data->'last_seq') IS DISTINCT FROM 'number' OR coalesce(p_data->>'manifest_sha256', '') !~ '^[0-9a-f]{64}$' THEN
    RAISE EXCEPTION 'an archive record needs last_seq and manifest_sha256 (64 hex digits)' USING ERRCODE = 'AOL01';
  END IF;
  v_last_seq := (p_data->>'last_seq')::bigint;
  PERFORM pg_advisory_xact_lock(7310001);
  SELECT * INTO v_first FROM aol_events ORDER BY seq LIMIT 1;
  v_head := (SELECT max(seq) FROM aol_events);
  SELECT * INTO v_last FROM aol_events WHERE seq = v_last_seq;
  IF NOT FOUND OR v_last_seq >= v_head THEN
    RAISE EXCEPTION 'seq % is not a live event before the head (the live log holds %..%)', v_last_seq, v_first.seq, v_head
      USING ERRCODE = 'AOL01';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM aol_events_partitions() x WHERE x.end_seq = v_last_seq + 1) THEN
    SELECT string_agg((x.end_seq - 1)::text, ', ' ORDER BY x.first_seq) INTO v_bounds
      FROM aol_events_partitions() x WHERE x.end_seq <= v_head;
    RAISE EXCEPTION 'an archive ends at a partition boundary: seq % does not (archivable ends: %)', v_last_seq,
      coalesce(v_bounds, 'none yet') USING ERRCODE = 'AOL01';
  END IF;
  IF (p_data->>'first_seq')::bigint IS DISTINCT FROM v_first.seq
     OR (p_data->>'count')::bigint IS DISTINCT FROM v_last_seq - v_first.seq + 1
     OR p_data->>'first_prev_hash' IS DISTINCT FROM v_first.prev_hash
     OR p_data->>'last_hash' IS DISTINCT FROM v_last.hash THEN
    RAISE EXCEPTION 'the archive record does not match the live log (events %..%, prev_hash %, last hash %): nothing was removed',
      v_first.seq, v_last_seq, v_first.prev_hash, v_last.hash USING ERRCODE = 'AOL01';
  END IF;
  SELECT * INTO e FROM aol_append_raw(ARRAY['log'], NULL, ARRAY['LogSegmentArchived'], ARRAY[p_data],
    ARRAY[jsonb_build_object('actor', session_user::text, 'via', CASE WHEN p_via = 'cli' THEN 'cli' ELSE 'sql' END,
      'reason', coalesce(nullif(btrim(p_reason), ''), 'archived'))]);
  -- a reader in the middle of a long query would make this wait: fail instead, nothing removed
  PERFORM set_config('lock_timeout', '10s', true);
  FOR p IN SELECT * FROM aol_events_partitions() x WHERE x.end_seq <= v_last_seq + 1 ORDER BY x.first_seq LOOP
    EXECUTE format('ALTER TABLE aol_events DETACH PARTITION %I', p.partition);
    EXECUTE format('DROP TABLE %I', p.partition);
  END LOOP;
  RETURN e;
END $$;

-- The statement triggers a partition does not inherit from aol_events (the
-- row trigger is cloned onto each): TRUNCATE and INSERT refused on every
-- partition too. Made on every migrate for the partitions that exist (0020
-- makes the first ones with plain DDL), and by aol_events_create_partition().
CREATE OR REPLACE FUNCTION aol_events_guard_partitions() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  p record;
BEGIN
  FOR p IN SELECT x.partition FROM aol_events_partitions() x LOOP
    EXECUTE format('DROP TRIGGER IF EXISTS aol_events_partition_no_truncate ON %I', p.partition);
    EXECUTE format('CREATE TRIGGER aol_events_partition_no_truncate BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION aol_events_refuse_change()', p.partition);
    EXECUTE format('DROP TRIGGER IF EXISTS aol_events_partition_insert_by_append ON %I', p.partition);
    EXECUTE format('CREATE TRIGGER aol_events_partition_insert_by_append BEFORE INSERT ON %I FOR EACH STATEMENT EXECUTE FUNCTION aol_events_refuse_change()', p.partition);
  END LOOP;
END $$;
SELECT aol_events_guard_partitions();
