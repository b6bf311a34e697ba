-- Set-based appends and projections.
--
-- Found by the throughput, append and replay benchmarks: every event went
-- through aol_append() one at a time — a stream-version lookup, a head
-- lookup, a hash, an INSERT, a PL/pgSQL projection (one UPDATE of the action,
-- one INSERT of its log line, two UPDATEs of the same two queue-counter rows)
-- and a NOTIFY, per event, inside the one append lock. A batch of 200 claims
-- cost 200 of those, and a rebuild of 1,000,000 events went quadratic: it
-- updated the same eight counter rows twice per action event in one
-- transaction, and PostgreSQL keeps every version of a row updated within a
-- transaction, so each update walked a longer chain (still running after
-- 7 minutes).
--
-- Now aol_append_many() appends a whole batch under the lock with one head
-- lookup, the batch's hashes chained in one pass and one INSERT, and
-- aol_apply_events() projects the batch set-based: one INSERT and one UPDATE
-- of aol_actions for all its action events (each action's fields folded from
-- its events in seq order), one INSERT of their execution-log lines, one
-- UPDATE of the counters by per-status deltas, one INSERT of tick-ledger rows.
-- Control and lease events (few, small) still fold one by one. aol_append()
-- and aol_append_batch() are thin wrappers, the worker's claim and outcome
-- batches append through it, and aol_rebuild() feeds the log through the same
-- aol_apply_events() in chunks — live appends and a rebuild share one
-- projection. The guarantees are unchanged: one lock, gapless commit-ordered
-- seq, one hash chain, a NOTIFY pointer per event at commit. Every event of a
-- batch gets the same occurred_at (database time after taking the lock).

-- STABLE, as to_char() is, so the planner can inline it into the batch's
-- set-based query (an IMMUTABLE function calling STABLE ones is run through
-- the SQL-function executor, once per row).
ALTER FUNCTION aol_event_content(bigint, text, integer, text, jsonb, jsonb, timestamptz) STABLE;

-- The status an action event leaves its action in (NULL: not an action event).
CREATE FUNCTION aol_action_status(p_type text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE p_type
    WHEN 'ActionEnqueued' THEN 'PENDING'
    WHEN 'ActionStarted' THEN 'RUNNING'
    WHEN 'ActionSucceeded' THEN 'SUCCESS'
    WHEN 'ActionRetryScheduled' THEN 'RETRY'
    WHEN 'ActionFailed' THEN 'FAILED'
    WHEN 'ActionDeadLettered' THEN 'DLQ'
    WHEN 'ActionOutcomeUnknown' THEN 'UNKNOWN'
    WHEN 'ActionCancelled' THEN 'CANCELLED'
    WHEN 'ActionRequeued' THEN 'PENDING'
  END
$$;

-- The execution-log line of an action event. Cancel and requeue name the
-- status they left in their data (always: event.types.ts; a runbook UPDATE
-- has already overwritten it in the row when its event is projected).
CREATE FUNCTION aol_action_message(p_type text, d jsonb) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT CASE p_type
    WHEN 'ActionEnqueued' THEN format('enqueued %s (key %s)', d->>'action_type', d->>'idempotency_key')
    WHEN 'ActionStarted' THEN format('attempt %s started by %s (epoch %s, %s)', d->>'attempt', d->>'worker',
      d->>'epoch', CASE WHEN (d->>'proof_mode')::boolean THEN 'proof mode' ELSE 'real mode' END)
    WHEN 'ActionSucceeded' THEN d->>'message'
    WHEN 'ActionRetryScheduled' THEN format('attempt %s failed: %s; retry at %s', d->>'attempt', d->>'error', d->>'retry_at')
    WHEN 'ActionFailed' THEN format('failed permanently: %s', d->>'error')
    WHEN 'ActionDeadLettered' THEN format('attempt %s failed: %s; moved to DLQ', d->>'attempt', d->>'error')
    WHEN 'ActionOutcomeUnknown' THEN format('outcome unknown: %s', d->>'error')
    WHEN 'ActionCancelled' THEN format('cancelled (was %s)', d->>'previous_status')
    WHEN 'ActionRequeued' THEN format('requeued by an operator (was %s)', d->>'previous_status')
  END
$$;

CREATE FUNCTION aol_action_level(p_type text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_type IN ('ActionFailed', 'ActionDeadLettered', 'ActionOutcomeUnknown') THEN 'ERROR'
              WHEN p_type = 'ActionRetryScheduled' THEN 'WARN' ELSE 'INFO' END
$$;

-- A batch travels as parallel arrays (seq, stream, type, data, occurred_at …),
-- never as an aol_events[]: PL/pgSQL spends ~45 µs per element assigning an
-- array of composites (measured: 450 ms for 10,000 events, 7 ms as jsonb[]).

-- Project a batch of action events (in seq order; other streams are ignored).
-- Generic plans: re-planning this statement for every single-event append
-- cost more than running it (0.55 → 0.36 ms per append, measured).
CREATE FUNCTION aol_apply_actions(p_seq bigint[], p_stream text[], p_type text[], p_data jsonb[], p_at timestamptz[])
RETURNS void LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  v_bad text;
BEGIN
  SELECT e.type INTO v_bad FROM unnest(p_stream, p_type) e(stream, type)
   WHERE e.stream LIKE 'action:%' AND aol_action_status(e.type) IS NULL LIMIT 1;
  IF v_bad IS NOT NULL THEN
    RAISE EXCEPTION 'unknown action event type %', v_bad;
  END IF;
  -- Every read of aol_actions below sees the rows as they were before this
  -- batch (one statement, one snapshot).
  WITH ev AS (
    SELECT e.seq, substr(e.stream, 8)::bigint AS id, e.type, e.data, e.occurred_at,
           aol_action_status(e.type) AS status
      FROM unnest(p_seq, p_stream, p_type, p_data, p_at) e(seq, stream, type, data, occurred_at)
     WHERE e.stream LIKE 'action:%'
  ),
  logged AS (
    INSERT INTO aol_execution_logs
    SELECT ev.seq, ev.id, ev.occurred_at, aol_action_level(ev.type), aol_action_message(ev.type, ev.data),
           ev.data->>'artifact_ref', ev.data->>'artifact_sha256'
      FROM ev
  ),
  -- Each action's fields after the batch: every field takes the value of the
  -- last event that sets it (NULL: no event in the batch does).
  fold AS (
    SELECT ev.id,
      (array_agg(ev.data ORDER BY ev.seq) FILTER (WHERE ev.type = 'ActionEnqueued'))[1] AS enqueued,
      (array_agg(ev.occurred_at ORDER BY ev.seq) FILTER (WHERE ev.type = 'ActionEnqueued'))[1] AS created_at,
      (array_agg(ev.data->>'previous_status' ORDER BY ev.seq))[1] AS first_was,
      (array_agg(ev.status ORDER BY ev.seq DESC))[1] AS status,
      (array_agg(ev.occurred_at ORDER BY ev.seq DESC))[1] AS updated_at,
      (array_agg(CASE WHEN ev.type = 'ActionStarted' THEN (ev.data->>'attempt')::integer ELSE 0 END ORDER BY ev.seq DESC)
         FILTER (WHERE ev.type IN ('ActionStarted', 'ActionRequeued')))[1] AS attempts,
      bool_or(ev.type = 'ActionStarted') AS started,
      (array_agg(ev.data->>'worker' ORDER BY ev.seq DESC) FILTER (WHERE ev.type = 'ActionStarted'))[1] AS worker,
      (array_agg((ev.data->>'epoch')::bigint ORDER BY ev.seq DESC) FILTER (WHERE ev.type = 'ActionStarted'))[1] AS epoch,
      bool_or(ev.data ? 'error') AS errored,
      (array_agg(ev.data->>'error' ORDER BY ev.seq DESC) FILTER (WHERE ev.data ? 'error'))[1] AS error,
      (array_agg(CASE WHEN ev.type = 'ActionRetryScheduled' THEN (ev.data->>'retry_at')::timestamptz ELSE ev.occurred_at END
         ORDER BY ev.seq DESC) FILTER (WHERE ev.type IN ('ActionRetryScheduled', 'ActionRequeued')))[1] AS not_before
    FROM ev GROUP BY ev.id
  ),
  -- the status before the batch of each action the batch did not create (NULL: no such row)
  known AS (
    SELECT f.*, CASE WHEN f.enqueued IS NULL THEN (SELECT a.status FROM aol_actions a WHERE a.id = f.id) END AS old_status
      FROM fold f
  ),
  inserted AS (
    INSERT INTO aol_actions
    SELECT f.id, f.enqueued->>'idempotency_key', f.enqueued->>'action_type', f.enqueued->'payload', f.status,
           coalesce(f.not_before, (f.enqueued->>'not_before')::timestamptz), coalesce(f.attempts, 0),
           CASE WHEN f.errored THEN f.error END, f.created_at, f.updated_at, f.worker, f.epoch
      FROM fold f WHERE f.enqueued IS NOT NULL
  ),
  updated AS (
    UPDATE aol_actions a SET
      status = f.status,
      updated_at_utc = f.updated_at,
      attempts = coalesce(f.attempts, a.attempts),
      worker = CASE WHEN f.started THEN f.worker ELSE a.worker END,
      epoch = CASE WHEN f.started THEN f.epoch ELSE a.epoch END,
      last_error = CASE WHEN f.errored THEN f.error ELSE a.last_error END,
      not_before_utc = coalesce(f.not_before, a.not_before_utc)
    FROM known f WHERE a.id = f.id AND f.enqueued IS NULL
  ),
  -- Counters move by the batch's net change per status (a rebuild starts
  -- them from zero like the rows).
  delta AS (
    SELECT x.status, sum(x.d) AS d FROM (
      SELECT f.status, 1 AS d FROM known f WHERE f.enqueued IS NOT NULL OR f.old_status IS NOT NULL
      UNION ALL
      SELECT coalesce(f.first_was, f.old_status), -1 FROM known f WHERE f.enqueued IS NULL AND f.old_status IS NOT NULL
    ) x GROUP BY x.status
  )
  UPDATE aol_queue_counts q SET n = q.n + delta.d FROM delta WHERE q.status = delta.status AND delta.d <> 0;
END $$;

-- Project a batch of tick events.
CREATE FUNCTION aol_apply_ticks(p_seq bigint[], p_stream text[], p_type text[], p_data jsonb[])
RETURNS void LANGUAGE sql AS $$
  INSERT INTO aol_tick_ledger
  SELECT e.seq, (e.data->>'started_at')::timestamptz, (e.data->>'finished_at')::timestamptz, e.data->>'status',
         (e.data->>'actions_attempted')::integer, (e.data->>'actions_succeeded')::integer,
         e.data->>'notes', e.data->>'worker', (e.data->>'epoch')::bigint
    FROM unnest(p_seq, p_stream, p_type, p_data) e(seq, stream, type, data)
   WHERE e.stream = 'tick' AND e.type = 'TickRecorded'
$$;

-- Project a batch of events of any streams, in seq order. The areas write
-- disjoint tables, so each area can take its events in one go.
CREATE FUNCTION aol_apply_events(
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
  SELECT bool_or(x.stream IN ('control', 'lease')), bool_or(x.stream = 'tick'), bool_or(x.stream LIKE 'action:%')
    INTO v_folds, v_ticks, v_actions FROM unnest(p_stream) x(stream);
  IF v_folds THEN
    FOR e IN SELECT x.*, NULL, NULL
               FROM unnest(p_seq, p_stream, p_version, p_type, p_data, p_metadata, p_at)
                    x(seq, stream, stream_version, type, data, metadata, occurred_at)
              WHERE x.stream IN ('control', 'lease') ORDER BY x.seq LOOP
      IF e.stream = 'control' THEN
        PERFORM aol_apply_control(e);
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

-- Append events in array order (the arrays are parallel; p_expected may be
-- NULL, or hold NULL for "any version"). A version mismatch raises AOL09.
CREATE FUNCTION aol_append_many(
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

CREATE OR REPLACE FUNCTION aol_append(
  p_stream text, p_expected integer, p_type text, p_data jsonb, p_metadata jsonb
) RETURNS aol_events LANGUAGE sql AS $$
  SELECT * FROM aol_append_many(ARRAY[p_stream], ARRAY[p_expected], ARRAY[p_type], ARRAY[p_data], ARRAY[p_metadata])
$$;

-- Each element: {stream, expected_version?, type, data, metadata}.
CREATE OR REPLACE FUNCTION aol_append_batch(p_events jsonb) RETURNS SETOF aol_events LANGUAGE sql AS $$
  SELECT * FROM aol_append_many(
    ARRAY(SELECT x->>'stream' FROM jsonb_array_elements(p_events) WITH ORDINALITY j(x, i) ORDER BY i),
    ARRAY(SELECT (x->>'expected_version')::integer FROM jsonb_array_elements(p_events) WITH ORDINALITY j(x, i) ORDER BY i),
    ARRAY(SELECT x->>'type' FROM jsonb_array_elements(p_events) WITH ORDINALITY j(x, i) ORDER BY i),
    ARRAY(SELECT x->'data' FROM jsonb_array_elements(p_events) WITH ORDINALITY j(x, i) ORDER BY i),
    ARRAY(SELECT x->'metadata' FROM jsonb_array_elements(p_events) WITH ORDINALITY j(x, i) ORDER BY i))
$$;

-- Rebuild every read model from the log, in one transaction, through the
-- same projection the appends use, p_chunk events at a time. Holding the
-- append lock keeps writers out, so the result is the state as of the last event.
DROP FUNCTION aol_rebuild();
CREATE FUNCTION aol_rebuild(p_chunk integer DEFAULT 10000) RETURNS bigint LANGUAGE plpgsql AS $$
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
BEGIN
  PERFORM pg_advisory_xact_lock(7310001);
  PERFORM set_config('aol.projecting', 'on', true);
  PERFORM aol_reset_control();
  PERFORM aol_reset_lease();
  PERFORM aol_reset_tick();
  PERFORM aol_reset_action();
  v_head := coalesce((SELECT max(seq) FROM aol_events), 0);
  WHILE v_from <= v_head LOOP -- seq is gapless
    SELECT array_agg(e.seq ORDER BY e.seq), array_agg(e.stream ORDER BY e.seq), array_agg(e.stream_version ORDER BY e.seq),
           array_agg(e.type ORDER BY e.seq), array_agg(e.data ORDER BY e.seq), array_agg(e.metadata ORDER BY e.seq),
           array_agg(e.occurred_at ORDER BY e.seq)
      INTO v_seq, v_stream, v_version, v_type, v_data, v_metadata, v_at
      FROM aol_events e WHERE e.seq >= v_from AND e.seq < v_from + p_chunk;
    PERFORM aol_apply_events(v_seq, v_stream, v_version, v_type, v_data, v_metadata, v_at);
    v_from := v_from + p_chunk;
  END LOOP;
  PERFORM set_config('aol.projecting', 'off', true);
  RETURN v_head;
END $$;

-- The worker's batches, now one append each.

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

-- The outcomes of a claimed batch: 'ok', 'fenced' (lease lost; each rejection
-- recorded) or 'stale' (no longer RUNNING under this epoch: a new holder
-- already recovered it), each as aol_action_outcome() decides it.
CREATE OR REPLACE FUNCTION aol_action_outcomes(p_owner text, p_epoch bigint, p_items jsonb)
RETURNS TABLE (id bigint, result text) LANGUAGE plpgsql AS $$
DECLARE
  x jsonb;
  v_ok bigint[];
  v_stream text[];
  v_type text[];
  v_data jsonb[];
BEGIN
  IF NOT aol_fence(p_owner, p_epoch, 'outcomes', NULL) THEN
    FOR x IN SELECT value FROM jsonb_array_elements(p_items) LOOP
      id := (x->>'id')::bigint;
      result := aol_action_outcome(p_owner, p_epoch, id, x->>'type', x->'data');
      RETURN NEXT;
    END LOOP;
    RETURN;
  END IF;
  -- the append lock is held from the fence on, so the RUNNING check stands until commit
  SELECT array_agg(i.id ORDER BY i.ord), array_agg('action:' || i.id ORDER BY i.ord), array_agg(i.type ORDER BY i.ord),
         array_agg(CASE WHEN i.type = 'ActionRetryScheduled'
                     THEN (i.data - 'retry_in_seconds') || jsonb_build_object('retry_at', aol_iso(clock_timestamp()
                            + make_interval(secs => (i.data->>'retry_in_seconds')::double precision)))
                     ELSE i.data END ORDER BY i.ord)
    INTO v_ok, v_stream, v_type, v_data
    FROM (SELECT (j.v->>'id')::bigint AS id, j.v->>'type' AS type, j.v->'data' AS data, j.ord,
                 row_number() OVER (PARTITION BY j.v->>'id' ORDER BY j.ord) AS nth
            FROM jsonb_array_elements(p_items) WITH ORDINALITY j(v, ord)) i
    JOIN aol_actions a ON a.id = i.id AND a.status = 'RUNNING' AND a.epoch = p_epoch
   WHERE i.nth = 1;
  IF v_ok IS NOT NULL THEN
    PERFORM count(*) FROM aol_append_many(v_stream, NULL, v_type, v_data,
      array_fill(aol_worker_metadata(p_owner), ARRAY[cardinality(v_ok)]));
  END IF;
  RETURN QUERY
    SELECT i.id, CASE WHEN i.nth = 1 AND i.id = ANY (v_ok) THEN 'ok' ELSE 'stale' END
      FROM (SELECT (j.v->>'id')::bigint AS id, j.ord, row_number() OVER (PARTITION BY j.v->>'id' ORDER BY j.ord) AS nth
              FROM jsonb_array_elements(p_items) WITH ORDINALITY j(v, ord)) i
     ORDER BY i.ord;
END $$;

-- The guards of the two read models that grow by a row per event check once
-- per statement instead of once per row (a rebuild writes a million log lines;
-- the per-row WHEN cost ~10 % of it), and now refuse TRUNCATE too.
DROP TRIGGER aol_execution_logs_guard ON aol_execution_logs;
CREATE TRIGGER aol_execution_logs_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON aol_execution_logs
  FOR EACH STATEMENT WHEN (NOT aol_projecting()) EXECUTE FUNCTION aol_read_model_guard();
DROP TRIGGER aol_tick_ledger_guard ON aol_tick_ledger;
CREATE TRIGGER aol_tick_ledger_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON aol_tick_ledger
  FOR EACH STATEMENT WHEN (NOT aol_projecting()) EXECUTE FUNCTION aol_read_model_guard();

-- Replaced by the set-based projection above.
DROP FUNCTION aol_apply(aol_events);
DROP FUNCTION aol_apply_action(aol_events);
DROP FUNCTION aol_apply_tick(aol_events);
DROP FUNCTION aol_action_log(aol_events, text, text);
