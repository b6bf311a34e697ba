CREATE FUNCTION public.aol_ack_control(p_owner text, p_epoch bigint, p_version integer) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
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

ALTER FUNCTION public.aol_ack_control(p_owner text, p_epoch bigint, p_version integer) OWNER TO aol_owner;

CREATE FUNCTION public.aol_action_level(p_type text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
  SELECT CASE WHEN p_type IN ('ActionFailed', 'ActionDeadLettered', 'ActionOutcomeUnknown') THEN 'ERROR'
              WHEN p_type = 'ActionRetryScheduled' THEN 'WARN' ELSE 'INFO' END
$$;

ALTER FUNCTION public.aol_action_level(p_type text) OWNER TO aol_owner;

CREATE FUNCTION public.aol_action_message(p_type text, d jsonb) RETURNS text
    LANGUAGE sql STABLE
    AS $$
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
  END || CASE WHEN d ? 'detail' THEN format(' — receiver said: %s', d->>'detail') ELSE '' END
$$;

ALTER FUNCTION public.aol_action_message(p_type text, d jsonb) OWNER TO aol_owner;

CREATE FUNCTION public.aol_action_status(p_type text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
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

ALTER FUNCTION public.aol_action_status(p_type text) OWNER TO aol_owner;

CREATE FUNCTION public.aol_actions_runbook() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.status = 'CANCELLED' AND OLD.status <> 'CANCELLED'
     AND OLD.status IN ('PENDING', 'RETRY', 'DLQ', 'FAILED', 'UNKNOWN')
     AND (to_jsonb(NEW) - 'status') = (to_jsonb(OLD) - 'status') THEN
    PERFORM aol_append('action:' || OLD.id, NULL, 'ActionCancelled',
      jsonb_build_object('previous_status', OLD.status), aol_sql_metadata());
    RETURN NULL;
  END IF;
  IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION 'aol_actions is a read model: only cancelling a PENDING, RETRY, DLQ, FAILED or UNKNOWN action (SET status = ''CANCELLED'') is allowed directly; use aol actions enqueue|retry|cancel'
    USING ERRCODE = 'AOL01';
END $$;

ALTER FUNCTION public.aol_actions_runbook() OWNER TO aol_owner;

CREATE TABLE public.aol_events (
    seq bigint NOT NULL,
    stream text NOT NULL,
    stream_version integer NOT NULL,
    type text NOT NULL,
    data jsonb NOT NULL,
    metadata jsonb NOT NULL,
    occurred_at timestamp with time zone NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL,
    CONSTRAINT aol_events_stream_check CHECK ((stream ~ '^(control|lease|tick|log|alert|schedule|action:[0-9]+)$'::text)),
    CONSTRAINT aol_events_stream_version_check CHECK ((stream_version > 0))
)
PARTITION BY RANGE (seq);

ALTER TABLE public.aol_events OWNER TO aol_owner;

CREATE FUNCTION public.aol_append(p_stream text, p_expected integer, p_type text, p_data jsonb, p_metadata jsonb) RETURNS public.aol_events
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
  SELECT * FROM aol_append_many(ARRAY[p_stream], ARRAY[p_expected], ARRAY[p_type], ARRAY[p_data], ARRAY[p_metadata])
$$;

ALTER FUNCTION public.aol_append(p_stream text, p_expected integer, p_type text, p_data jsonb, p_metadata jsonb) OWNER TO aol_owner;

CREATE FUNCTION public.aol_append_batch(p_events jsonb) RETURNS SETOF public.aol_events
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
  SELECT * FROM aol_append_many(
    ARRAY(SELECT x->>'stream' FROM jsonb_array_elements(p_events) WITH ORDINALITY j(x, i) ORDER BY i),
    ARRAY(SELECT (x->>'expected_version')::integer FROM jsonb_array_elements(p_events) WITH ORDINALITY j(x, i) ORDER BY i),
    ARRAY(SELECT x->>'type' FROM jsonb_array_elements(p_events) WITH ORDINALITY j(x, i) ORDER BY i),
    ARRAY(SELECT x->'data' FROM jsonb_array_elements(p_events) WITH ORDINALITY j(x, i) ORDER BY i),
    ARRAY(SELECT x->'metadata' FROM jsonb_array_elements(p_events) WITH ORDINALITY j(x, i) ORDER BY i))
$$;

ALTER FUNCTION public.aol_append_batch(p_events jsonb) OWNER TO aol_owner;

CREATE FUNCTION public.aol_append_many(p_stream text[], p_expected integer[], p_type text[], p_data jsonb[], p_metadata jsonb[]) RETURNS SETOF public.aol_events
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
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

ALTER FUNCTION public.aol_append_many(p_stream text[], p_expected integer[], p_type text[], p_data jsonb[], p_metadata jsonb[]) OWNER TO aol_owner;

CREATE FUNCTION public.aol_append_raw(p_stream text[], p_expected integer[], p_type text[], p_data jsonb[], p_metadata jsonb[]) RETURNS SETOF public.aol_events
    LANGUAGE plpgsql SECURITY DEFINER
    SET plan_cache_mode TO 'force_generic_plan'
    SET search_path TO 'public', 'pg_temp'
    AS $_$
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
END $_$;

ALTER FUNCTION public.aol_append_raw(p_stream text[], p_expected integer[], p_type text[], p_data jsonb[], p_metadata jsonb[]) OWNER TO aol_owner;

CREATE FUNCTION public.aol_apply_actions(p_seq bigint[], p_stream text[], p_type text[], p_data jsonb[], p_at timestamp with time zone[], p_rebuild boolean DEFAULT false) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET plan_cache_mode TO 'force_generic_plan'
    SET search_path TO 'public', 'pg_temp'
    AS $$
DECLARE
  v_bad text;
BEGIN
  SELECT e.type INTO v_bad FROM unnest(p_stream, p_type) e(stream, type)
   WHERE e.stream LIKE 'action:%' AND aol_action_status(e.type) IS NULL LIMIT 1;
  IF v_bad IS NOT NULL THEN
    RAISE EXCEPTION 'unknown action event type %', v_bad;
  END IF;
  SELECT e.stream INTO v_bad FROM unnest(p_stream, p_type) e(stream, type)
   WHERE e.type = 'ActionEnqueued' AND e.stream LIKE 'action:%'
   GROUP BY e.stream
  HAVING count(*) > 1
      OR (NOT p_rebuild AND EXISTS (SELECT 1 FROM aol_actions a WHERE a.id = substr(e.stream, 8)::bigint))
   LIMIT 1;
  IF v_bad IS NOT NULL THEN
    RAISE EXCEPTION '% is enqueued twice: an action has one ActionEnqueued', v_bad USING ERRCODE = 'unique_violation';
  END IF;
  -- Every read of aol_actions below sees the rows as they were before this
  -- batch (one statement, one snapshot).
  WITH ev AS (
    SELECT e.seq, substr(e.stream, 8)::bigint AS id, e.type, e.data, e.occurred_at,
           aol_action_status(e.type) AS status
      FROM unnest(p_seq, p_stream, p_type, p_data, p_at) e(seq, stream, type, data, occurred_at)
     WHERE e.stream LIKE 'action:%'
  ),
  -- One line per action event, at the event's seq — new in a live append, so
  -- a plain INSERT (the rebuild's reconcile, aol_rebuild step 3, makes the
  -- same columns from the same event).
  logged AS (
    INSERT INTO aol_execution_logs
    SELECT ev.seq, ev.id, ev.occurred_at, aol_action_level(ev.type), aol_action_message(ev.type, ev.data),
           ev.data->>'artifact_ref', ev.data->>'artifact_sha256'
      FROM ev WHERE NOT p_rebuild
  ),
  -- The events that count for the row, sorted by (id, seq) (the windows' one
  -- sort; the ORDER BY costs nothing more): all of an action the batch does
  -- not enqueue, else those from its ActionEnqueued on.
  kept AS (
    SELECT k.* FROM (
      SELECT ev.*,
             count(*) FILTER (WHERE ev.type = 'ActionEnqueued') OVER (PARTITION BY ev.id ORDER BY ev.seq) AS enqueued_yet,
             count(*) FILTER (WHERE ev.type = 'ActionEnqueued') OVER (PARTITION BY ev.id) AS enqueues
        FROM ev) k
     WHERE k.enqueues = 0 OR k.enqueued_yet > 0
     ORDER BY k.id, k.seq
  ),
  -- Each action's fields after the batch: every field takes the value of the
  -- last event that sets it (NULL: no event in the batch does). The events
  -- arrive sorted by (id, seq), so each array_agg collects
  -- its group in seq order ([1]: the first, [count]: the last) without a sort
  -- of its own: an ORDER BY inside each of the twelve aggregates sorted every
  -- action's events twelve times (PostgreSQL 15 sorts per aggregate and group;
  -- ~20 % of a rebuild, measured).
  fold AS (
    SELECT ev.id,
      (array_agg(ev.data) FILTER (WHERE ev.type = 'ActionEnqueued'))[1] AS enqueued,
      (array_agg(ev.occurred_at) FILTER (WHERE ev.type = 'ActionEnqueued'))[1] AS created_at,
      (array_agg(ev.data->>'previous_status'))[1] AS first_was,
      (array_agg(ev.status))[count(*)::integer] AS status,
      (array_agg(ev.occurred_at))[count(*)::integer] AS updated_at,
      (array_agg(CASE WHEN ev.type = 'ActionStarted' THEN (ev.data->>'attempt')::integer ELSE 0 END)
         FILTER (WHERE ev.type IN ('ActionStarted', 'ActionRequeued')))
        [(count(*) FILTER (WHERE ev.type IN ('ActionStarted', 'ActionRequeued')))::integer] AS attempts,
      bool_or(ev.type = 'ActionStarted') AS started,
      (array_agg(ev.data->>'worker') FILTER (WHERE ev.type = 'ActionStarted'))
        [(count(*) FILTER (WHERE ev.type = 'ActionStarted'))::integer] AS worker,
      (array_agg((ev.data->>'epoch')::bigint) FILTER (WHERE ev.type = 'ActionStarted'))
        [(count(*) FILTER (WHERE ev.type = 'ActionStarted'))::integer] AS epoch,
      bool_or(ev.data ? 'error') AS errored,
      (array_agg(ev.data->>'error') FILTER (WHERE ev.data ? 'error'))
        [(count(*) FILTER (WHERE ev.data ? 'error'))::integer] AS error,
      (array_agg(CASE WHEN ev.type = 'ActionRetryScheduled' THEN (ev.data->>'retry_at')::timestamptz ELSE ev.occurred_at END)
         FILTER (WHERE ev.type IN ('ActionRetryScheduled', 'ActionRequeued')))
        [(count(*) FILTER (WHERE ev.type IN ('ActionRetryScheduled', 'ActionRequeued')))::integer] AS not_before
    FROM kept ev GROUP BY ev.id
  ),
  -- the status before the batch of each action the batch did not create (NULL:
  -- no such row; a rebuild reads no row)
  known AS (
    SELECT f.*, CASE WHEN f.enqueued IS NULL AND NOT p_rebuild THEN (SELECT a.status FROM aol_actions a WHERE a.id = f.id)
                END AS old_status
      FROM fold f
  ),
  inserted AS (
    INSERT INTO aol_actions AS a
    SELECT f.id, f.enqueued->>'idempotency_key', f.enqueued->>'action_type', f.enqueued->'payload', f.status,
           coalesce(f.not_before, (f.enqueued->>'not_before')::timestamptz), coalesce(f.attempts, 0),
           CASE WHEN f.errored THEN f.error END, f.created_at, f.updated_at, f.worker, f.epoch
      FROM fold f WHERE f.enqueued IS NOT NULL
    ON CONFLICT (id) DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key, action_type = EXCLUDED.action_type,
      payload = EXCLUDED.payload, status = EXCLUDED.status, not_before_utc = EXCLUDED.not_before_utc,
      attempts = EXCLUDED.attempts, last_error = EXCLUDED.last_error, created_at_utc = EXCLUDED.created_at_utc,
      updated_at_utc = EXCLUDED.updated_at_utc, worker = EXCLUDED.worker, epoch = EXCLUDED.epoch
    WHERE (a.idempotency_key, a.action_type, a.payload, a.status, a.not_before_utc, a.attempts, a.last_error,
           a.created_at_utc, a.updated_at_utc, a.worker, a.epoch)
      IS DISTINCT FROM (EXCLUDED.idempotency_key, EXCLUDED.action_type, EXCLUDED.payload, EXCLUDED.status,
                        EXCLUDED.not_before_utc, EXCLUDED.attempts, EXCLUDED.last_error, EXCLUDED.created_at_utc,
                        EXCLUDED.updated_at_utc, EXCLUDED.worker, EXCLUDED.epoch)
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
    FROM known f WHERE a.id = f.id AND f.enqueued IS NULL AND NOT p_rebuild
  ),
  -- Counters move by the batch's net change per status (a rebuild starts
  -- them from zero and adds each action once, in its last status).
  delta AS (
    SELECT x.status, sum(x.d) AS d FROM (
      SELECT f.status, 1 AS d FROM known f WHERE f.enqueued IS NOT NULL OR f.old_status IS NOT NULL
      UNION ALL
      SELECT coalesce(f.first_was, f.old_status), -1 FROM known f WHERE f.enqueued IS NULL AND f.old_status IS NOT NULL
    ) x GROUP BY x.status
  )
  UPDATE aol_queue_counts q SET n = q.n + delta.d FROM delta WHERE q.status = delta.status AND delta.d <> 0;
END $$;

ALTER FUNCTION public.aol_apply_actions(p_seq bigint[], p_stream text[], p_type text[], p_data jsonb[], p_at timestamp with time zone[], p_rebuild boolean) OWNER TO aol_owner;

CREATE FUNCTION public.aol_apply_control(e public.aol_events) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
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

ALTER FUNCTION public.aol_apply_control(e public.aol_events) OWNER TO aol_owner;

CREATE FUNCTION public.aol_apply_events(p_seq bigint[], p_stream text[], p_version integer[], p_type text[], p_data jsonb[], p_metadata jsonb[], p_at timestamp with time zone[]) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
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

ALTER FUNCTION public.aol_apply_events(p_seq bigint[], p_stream text[], p_version integer[], p_type text[], p_data jsonb[], p_metadata jsonb[], p_at timestamp with time zone[]) OWNER TO aol_owner;

CREATE FUNCTION public.aol_apply_lease(e public.aol_events) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
BEGIN
  CASE e.type
    WHEN 'LeaseAcquired' THEN
      DELETE FROM aol_lease;
      INSERT INTO aol_lease VALUES (e.data->>'owner', (e.data->>'epoch')::bigint,
        (e.data->>'acquired_at')::timestamptz, (e.data->>'acquired_at')::timestamptz,
        (e.data->>'expires_at')::timestamptz);
      UPDATE aol_lease_epoch SET epoch = greatest(epoch, (e.data->>'epoch')::bigint);
    WHEN 'LeaseRenewed' THEN
      UPDATE aol_lease SET renewed_at_utc = e.occurred_at, expires_at_utc = (e.data->>'expires_at')::timestamptz
       WHERE epoch = (e.data->>'epoch')::bigint;
    WHEN 'LeaseReleased', 'LeaseExpired', 'LeaseForceReleased' THEN
      DELETE FROM aol_lease WHERE epoch = (e.data->>'epoch')::bigint;
    ELSE
      NULL; -- FencedWriteRejected: an audit record only
  END CASE;
END $$;

ALTER FUNCTION public.aol_apply_lease(e public.aol_events) OWNER TO aol_owner;

CREATE FUNCTION public.aol_apply_schedule(e public.aol_events) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
DECLARE
  d jsonb := e.data;
BEGIN
  CASE e.type
    WHEN 'ScheduleCreated' THEN
      INSERT INTO aol_schedules VALUES (d->>'schedule_id', d->>'cron', d->>'time_zone', d->>'action_type',
        d->'payload', d->>'missed_fires', (d->>'catch_up_max')::integer, 'ACTIVE',
        (d->>'handled_through')::timestamptz, (d->>'next_fire')::timestamptz, 0, 0, NULL, NULL,
        e.metadata->>'reason', e.metadata->>'actor', e.occurred_at, e.occurred_at);
    WHEN 'SchedulePaused' THEN
      UPDATE aol_schedules SET status = 'PAUSED', updated_at_utc = e.occurred_at
       WHERE schedule_id = d->>'schedule_id';
    WHEN 'ScheduleResumed' THEN
      UPDATE aol_schedules SET status = 'ACTIVE', handled_through_utc = (d->>'handled_through')::timestamptz,
             next_fire_utc = (d->>'next_fire')::timestamptz, updated_at_utc = e.occurred_at
       WHERE schedule_id = d->>'schedule_id';
    WHEN 'ScheduleDeleted' THEN
      UPDATE aol_schedules SET status = 'DELETED', next_fire_utc = NULL, updated_at_utc = e.occurred_at
       WHERE schedule_id = d->>'schedule_id';
    WHEN 'ScheduleFired' THEN
      UPDATE aol_schedules SET fired = fired + 1, last_fire_utc = (d->>'fire_time')::timestamptz,
             last_action_id = (d->>'action_id')::bigint,
             handled_through_utc = greatest(handled_through_utc, (d->>'fire_time')::timestamptz),
             next_fire_utc = (d->>'next_fire')::timestamptz, updated_at_utc = e.occurred_at
       WHERE schedule_id = d->>'schedule_id';
    WHEN 'ScheduleFiresMissed' THEN
      UPDATE aol_schedules SET missed = missed + (d->>'count')::integer,
             handled_through_utc = greatest(handled_through_utc, (d->>'last')::timestamptz),
             next_fire_utc = (d->>'next_fire')::timestamptz, updated_at_utc = e.occurred_at
       WHERE schedule_id = d->>'schedule_id';
    ELSE
      RAISE EXCEPTION 'unknown schedule event type %', e.type;
  END CASE;
END $$;

ALTER FUNCTION public.aol_apply_schedule(e public.aol_events) OWNER TO aol_owner;

CREATE FUNCTION public.aol_apply_ticks(p_seq bigint[], p_stream text[], p_type text[], p_data jsonb[]) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
  INSERT INTO aol_tick_ledger
  SELECT e.seq, (e.data->>'started_at')::timestamptz, (e.data->>'finished_at')::timestamptz, e.data->>'status',
         (e.data->>'actions_attempted')::integer, (e.data->>'actions_succeeded')::integer,
         e.data->>'notes', e.data->>'worker', (e.data->>'epoch')::bigint
    FROM unnest(p_seq, p_stream, p_type, p_data) e(seq, stream, type, data)
   WHERE e.stream = 'tick' AND e.type = 'TickRecorded'
$$;

ALTER FUNCTION public.aol_apply_ticks(p_seq bigint[], p_stream text[], p_type text[], p_data jsonb[]) OWNER TO aol_owner;

CREATE FUNCTION public.aol_approve_proof_off(p_request_id text, p_reason text DEFAULT NULL::text) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
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

ALTER FUNCTION public.aol_approve_proof_off(p_request_id text, p_reason text) OWNER TO aol_owner;

CREATE FUNCTION public.aol_archive_segment(p_data jsonb, p_reason text, p_via text) RETURNS public.aol_events
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $_$
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
END $_$;

ALTER FUNCTION public.aol_archive_segment(p_data jsonb, p_reason text, p_via text) OWNER TO aol_owner;

CREATE FUNCTION public.aol_claim_events(p_owner text, p_epoch bigint, p_limit integer, p_env_proof boolean, OUT ids bigint[], OUT streams text[], OUT types text[], OUT datas jsonb[], OUT proof boolean, OUT action_types text[], OUT payloads jsonb[], OUT keys text[], OUT attempts integer[]) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
DECLARE
  f aol_control_flags;
BEGIN
  PERFORM aol_expire_scoped_pauses(p_owner);
  SELECT * INTO f FROM aol_control_flags WHERE aol_control_flags.id = 1;
  IF f.paused OR f.killed THEN
    RETURN;
  END IF;
  proof := p_env_proof OR f.proof_mode;
  -- the claimed rows travel back from here (their attempt is the one started), not re-read after the append
  SELECT array_agg(c.id ORDER BY c.not_before_utc, c.id), array_agg('action:' || c.id ORDER BY c.not_before_utc, c.id),
         array_agg('ActionStarted'::text),
         array_agg(jsonb_build_object('attempt', c.attempts + 1, 'worker', p_owner, 'epoch', p_epoch,
           'proof_mode', proof) ORDER BY c.not_before_utc, c.id),
         array_agg(c.action_type ORDER BY c.not_before_utc, c.id), array_agg(c.payload ORDER BY c.not_before_utc, c.id),
         array_agg(c.idempotency_key ORDER BY c.not_before_utc, c.id),
         array_agg(c.attempts + 1 ORDER BY c.not_before_utc, c.id)
    INTO ids, streams, types, datas, action_types, payloads, keys, attempts
    FROM (SELECT a.id, a.attempts, a.not_before_utc, a.action_type, a.payload, a.idempotency_key FROM aol_actions a
           WHERE a.status IN ('PENDING', 'RETRY') AND a.not_before_utc <= clock_timestamp()
             AND NOT EXISTS (SELECT 1 FROM aol_scoped_pauses p
                              WHERE p.ended_at_utc IS NULL
                                AND (p.action_types IS NULL OR a.action_type = ANY (p.action_types)))
           ORDER BY a.not_before_utc, a.id
           LIMIT p_limit
           FOR UPDATE SKIP LOCKED) c;
END $$;

ALTER FUNCTION public.aol_claim_events(p_owner text, p_epoch bigint, p_limit integer, p_env_proof boolean, OUT ids bigint[], OUT streams text[], OUT types text[], OUT datas jsonb[], OUT proof boolean, OUT action_types text[], OUT payloads jsonb[], OUT keys text[], OUT attempts integer[]) OWNER TO aol_owner;

CREATE FUNCTION public.aol_clear_production(p_reason text, p_via text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
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

ALTER FUNCTION public.aol_clear_production(p_reason text, p_via text) OWNER TO aol_owner;

CREATE FUNCTION public.aol_clock_runbook() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
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

ALTER FUNCTION public.aol_clock_runbook() OWNER TO aol_owner;

CREATE FUNCTION public.aol_control_flags_runbook() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
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

ALTER FUNCTION public.aol_control_flags_runbook() OWNER TO aol_owner;

CREATE FUNCTION public.aol_event_content(p_seq bigint, p_stream text, p_version integer, p_type text, p_data jsonb, p_metadata jsonb, p_occurred_at timestamp with time zone) RETURNS text
    LANGUAGE sql STABLE
    AS $$
  SELECT p_seq::text || '|' || p_stream || '|' || p_version::text || '|' || p_type || '|'
      || p_data::text || '|' || p_metadata::text || '|'
      || to_char(p_occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

ALTER FUNCTION public.aol_event_content(p_seq bigint, p_stream text, p_version integer, p_type text, p_data jsonb, p_metadata jsonb, p_occurred_at timestamp with time zone) OWNER TO aol_owner;

CREATE FUNCTION public.aol_events_create_partition(p_from bigint, p_to bigint) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
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

ALTER FUNCTION public.aol_events_create_partition(p_from bigint, p_to bigint) OWNER TO aol_owner;

CREATE FUNCTION public.aol_events_ensure_partitions(p_upto bigint) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
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

ALTER FUNCTION public.aol_events_ensure_partitions(p_upto bigint) OWNER TO aol_owner;

CREATE FUNCTION public.aol_events_guard_partitions() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
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

ALTER FUNCTION public.aol_events_guard_partitions() OWNER TO aol_owner;

CREATE FUNCTION public.aol_events_partition_rows() RETURNS bigint
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $_$
  SELECT CASE WHEN v ~ '^[0-9]{1,10}$' THEN greatest(10, least(1000000000, v::bigint)) ELSE 100000 END
    FROM coalesce(current_setting('aol.events_partition_rows', true), '') v
$_$;

ALTER FUNCTION public.aol_events_partition_rows() OWNER TO aol_owner;

CREATE FUNCTION public.aol_events_partitions() RETURNS TABLE(partition text, first_seq bigint, end_seq bigint)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
  SELECT c.relname::text, b[1]::bigint, b[2]::bigint
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid,
         regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''?(-?[0-9]+)''?\) TO \(''?(-?[0-9]+)''?\)') b
   WHERE i.inhparent = 'aol_events'::regclass
   ORDER BY 2
$$;

ALTER FUNCTION public.aol_events_partitions() OWNER TO aol_owner;

CREATE FUNCTION public.aol_events_refuse_change() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
BEGIN
  RAISE EXCEPTION 'aol_events is append-only: % refused', TG_OP
    USING ERRCODE = 'AOL01';
END $$;

ALTER FUNCTION public.aol_events_refuse_change() OWNER TO aol_owner;

CREATE FUNCTION public.aol_expire_proof_requests(p_metadata jsonb) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
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

ALTER FUNCTION public.aol_expire_proof_requests(p_metadata jsonb) OWNER TO aol_owner;

CREATE FUNCTION public.aol_expire_scoped_pauses(p_actor text) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
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

ALTER FUNCTION public.aol_expire_scoped_pauses(p_actor text) OWNER TO aol_owner;

CREATE FUNCTION public.aol_fence(p_owner text, p_epoch bigint, p_attempted text, p_action_id bigint) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
DECLARE
  l aol_lease;
BEGIN
  PERFORM pg_advisory_xact_lock(7310001);
  SELECT * INTO l FROM aol_lease;
  IF FOUND AND l.owner = p_owner AND l.epoch = p_epoch AND l.expires_at_utc > clock_timestamp() THEN
    RETURN true;
  END IF;
  PERFORM aol_append('lease', NULL, 'FencedWriteRejected', jsonb_strip_nulls(jsonb_build_object(
    'worker', p_owner, 'epoch', p_epoch, 'current_epoch', l.epoch, 'action_id', p_action_id,
    'attempted', p_attempted)), aol_worker_metadata(p_owner));
  RETURN false;
END $$;

ALTER FUNCTION public.aol_fence(p_owner text, p_epoch bigint, p_attempted text, p_action_id bigint) OWNER TO aol_owner;

CREATE FUNCTION public.aol_health_inputs() RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
BEGIN
  RETURN jsonb_build_object(
    'now', aol_iso(aol_now()),
    'last_tick', (SELECT to_jsonb(t) FROM (SELECT * FROM aol_tick_ledger ORDER BY seq DESC LIMIT 1) t),
    'lease', (SELECT to_jsonb(l) FROM aol_lease l LIMIT 1),
    'flags', (SELECT to_jsonb(f) FROM aol_control_flags f WHERE id = 1),
    'ack', (SELECT to_jsonb(a) FROM aol_control_ack a WHERE id = 1),
    'counts', (SELECT jsonb_object_agg(lower(status), n) FROM aol_queue_counts),
    'last_event_seq', (SELECT coalesce(max(seq), 0) FROM aol_events),
    'workers', (SELECT coalesce(jsonb_agg(to_jsonb(w) ORDER BY w.started_at_utc DESC, w.id), '[]')
                  FROM (SELECT * FROM aol_worker_presence() LIMIT 200) w),
    'scoped_pauses', (SELECT coalesce(jsonb_agg(jsonb_build_object('pause_id', p.pause_id, 'action_types', p.action_types,
                                       'until', aol_iso_ms(p.until_utc), 'reason', p.reason, 'started_by', p.started_by,
                                       'started_at', aol_iso_ms(p.started_at_utc)) ORDER BY p.started_at_utc, p.pause_id), '[]')
                        FROM aol_scoped_pauses p WHERE p.ended_at_utc IS NULL),
    'schedule_fires', (SELECT coalesce(jsonb_agg(jsonb_build_object('schedule_id', s.schedule_id,
                                        'next_fire', aol_iso_ms(s.next_fire_utc)) ORDER BY s.next_fire_utc, s.schedule_id), '[]')
                         FROM (SELECT * FROM aol_schedules WHERE status = 'ACTIVE' AND next_fire_utc IS NOT NULL
                                ORDER BY next_fire_utc, schedule_id LIMIT 10) s)
  );
END $$;

ALTER FUNCTION public.aol_health_inputs() OWNER TO aol_owner;

CREATE FUNCTION public.aol_is_production() RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
BEGIN
  RETURN coalesce((SELECT production FROM aol_deployment WHERE id = 1), false);
END $$;

ALTER FUNCTION public.aol_is_production() OWNER TO aol_owner;

CREATE FUNCTION public.aol_iso(t timestamp with time zone) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
  SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

ALTER FUNCTION public.aol_iso(t timestamp with time zone) OWNER TO aol_owner;

CREATE FUNCTION public.aol_iso_ms(t timestamp with time zone) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
  SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

ALTER FUNCTION public.aol_iso_ms(t timestamp with time zone) OWNER TO aol_owner;

CREATE FUNCTION public.aol_lease_acquire(p_owner text, p_ttl_seconds double precision) RETURNS TABLE(acquired boolean, owner text, epoch bigint, expires_at timestamp with time zone, now timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
DECLARE
  l aol_lease;
  t timestamptz;
  v_epoch bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(7310001);
  t := clock_timestamp();
  SELECT * INTO l FROM aol_lease;
  IF FOUND AND l.expires_at_utc > t THEN
    RETURN QUERY SELECT l.owner = p_owner, l.owner, l.epoch, l.expires_at_utc, t;
    RETURN;
  END IF;
  IF FOUND THEN
    PERFORM aol_append('lease', NULL, 'LeaseExpired', jsonb_build_object('owner', l.owner, 'epoch', l.epoch,
      'expired_at', aol_iso(l.expires_at_utc), 'detected_by', p_owner), aol_worker_metadata(p_owner));
  END IF;
  SELECT le.epoch + 1 INTO v_epoch FROM aol_lease_epoch le;
  t := clock_timestamp();
  PERFORM aol_append('lease', NULL, 'LeaseAcquired', jsonb_build_object('owner', p_owner, 'epoch', v_epoch,
    'acquired_at', aol_iso(t), 'expires_at', aol_iso(t + make_interval(secs => p_ttl_seconds)),
    'ttl_seconds', p_ttl_seconds), aol_worker_metadata(p_owner));
  RETURN QUERY SELECT true, p_owner, v_epoch, t + make_interval(secs => p_ttl_seconds), t;
END $$;

ALTER FUNCTION public.aol_lease_acquire(p_owner text, p_ttl_seconds double precision) OWNER TO aol_owner;

CREATE FUNCTION public.aol_lease_force_release(p_metadata jsonb) RETURNS public.aol_events
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
DECLARE
  l aol_lease;
BEGIN
  PERFORM pg_advisory_xact_lock(7310001);
  SELECT * INTO l FROM aol_lease;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  RETURN aol_append('lease', NULL, 'LeaseForceReleased',
    jsonb_build_object('owner', l.owner, 'epoch', l.epoch), p_metadata);
END $$;

ALTER FUNCTION public.aol_lease_force_release(p_metadata jsonb) OWNER TO aol_owner;

CREATE FUNCTION public.aol_lease_release(p_owner text, p_epoch bigint) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7310001);
  IF NOT EXISTS (SELECT 1 FROM aol_lease WHERE owner = p_owner AND epoch = p_epoch) THEN
    RETURN false;
  END IF;
  PERFORM aol_append('lease', NULL, 'LeaseReleased',
    jsonb_build_object('owner', p_owner, 'epoch', p_epoch), aol_worker_metadata(p_owner));
  RETURN true;
END $$;

ALTER FUNCTION public.aol_lease_release(p_owner text, p_epoch bigint) OWNER TO aol_owner;

CREATE FUNCTION public.aol_lease_renew(p_owner text, p_epoch bigint, p_ttl_seconds double precision) RETURNS timestamp with time zone
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
DECLARE
  t timestamptz;
  v_exp timestamptz;
BEGIN
  PERFORM pg_advisory_xact_lock(7310001);
  t := clock_timestamp();
  v_exp := t + make_interval(secs => p_ttl_seconds);
  UPDATE aol_lease SET renewed_at_utc = t, expires_at_utc = v_exp
   WHERE owner = p_owner AND epoch = p_epoch AND expires_at_utc > t;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  RETURN v_exp;
END $$;

ALTER FUNCTION public.aol_lease_renew(p_owner text, p_epoch bigint, p_ttl_seconds double precision) OWNER TO aol_owner;

CREATE FUNCTION public.aol_lease_runbook() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
BEGIN
  IF TG_OP <> 'DELETE' THEN
    RAISE EXCEPTION 'aol_lease is a read model; only DELETE FROM aol_lease (force release) is allowed'
      USING ERRCODE = 'AOL01';
  END IF;
  PERFORM aol_append('lease', NULL, 'LeaseForceReleased',
    jsonb_build_object('owner', OLD.owner, 'epoch', OLD.epoch), aol_sql_metadata());
  RETURN NULL;
END $$;

ALTER FUNCTION public.aol_lease_runbook() OWNER TO aol_owner;

CREATE FUNCTION public.aol_mark_production(p_via text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
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

ALTER FUNCTION public.aol_mark_production(p_via text) OWNER TO aol_owner;

CREATE FUNCTION public.aol_now() RETURNS timestamp with time zone
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
BEGIN
  RETURN clock_timestamp() + CASE WHEN aol_is_production() THEN interval '0'
    ELSE make_interval(secs => (SELECT offset_seconds FROM aol_clock WHERE id = 1)) END;
END $$;

ALTER FUNCTION public.aol_now() OWNER TO aol_owner;

CREATE FUNCTION public.aol_operator_event_types() RETURNS text[]
    LANGUAGE sql IMMUTABLE
    AS $$
  SELECT ARRAY['ControlPaused', 'ControlResumed', 'ControlKilled', 'ControlRevived', 'ProofModeEnabled',
               'ProofModeDisabled', 'ProofModeDisableRequested', 'ProofModeDisableExpired', 'LeaseForceReleased',
               'ActionEnqueued', 'ActionCancelled', 'ActionRequeued', 'ScopedPauseStarted', 'ScopedPauseEnded',
               'ScheduleCreated', 'SchedulePaused', 'ScheduleResumed', 'ScheduleDeleted']
$$;

ALTER FUNCTION public.aol_operator_event_types() OWNER TO aol_owner;

CREATE FUNCTION public.aol_outcome_events(p_epoch bigint, p_items jsonb, OUT ids bigint[], OUT streams text[], OUT types text[], OUT datas jsonb[], OUT item_ids bigint[], OUT results text[]) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
BEGIN
  SELECT array_agg(i.id ORDER BY i.ord) FILTER (WHERE a.id IS NOT NULL),
         array_agg('action:' || i.id ORDER BY i.ord) FILTER (WHERE a.id IS NOT NULL),
         array_agg(i.type ORDER BY i.ord) FILTER (WHERE a.id IS NOT NULL),
         array_agg(CASE WHEN i.type = 'ActionRetryScheduled'
                     THEN (i.data - 'retry_in_seconds') || jsonb_build_object('retry_at', aol_iso(clock_timestamp()
                            + make_interval(secs => (i.data->>'retry_in_seconds')::double precision)))
                     ELSE i.data END ORDER BY i.ord) FILTER (WHERE a.id IS NOT NULL),
         array_agg(i.id ORDER BY i.ord),
         array_agg(CASE WHEN a.id IS NOT NULL THEN 'ok' ELSE 'stale' END ORDER BY i.ord)
    INTO ids, streams, types, datas, item_ids, results
    FROM (SELECT (j.v->>'id')::bigint AS id, j.v->>'type' AS type, j.v->'data' AS data, j.ord,
                 row_number() OVER (PARTITION BY j.v->>'id' ORDER BY j.ord) AS nth
            FROM jsonb_array_elements(p_items) WITH ORDINALITY j(v, ord)) i
    LEFT JOIN aol_actions a ON a.id = i.id AND a.status = 'RUNNING' AND a.epoch = p_epoch AND i.nth = 1;
END $$;

ALTER FUNCTION public.aol_outcome_events(p_epoch bigint, p_items jsonb, OUT ids bigint[], OUT streams text[], OUT types text[], OUT datas jsonb[], OUT item_ids bigint[], OUT results text[]) OWNER TO aol_owner;

CREATE FUNCTION public.aol_read_model_guard() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
BEGIN
  RAISE EXCEPTION '% is a read model projected from aol_events; direct % is refused',
    TG_TABLE_NAME, TG_OP USING ERRCODE = 'AOL01';
END $$;

ALTER FUNCTION public.aol_read_model_guard() OWNER TO aol_owner;

CREATE FUNCTION public.aol_rebuild(p_chunk integer DEFAULT 10000) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
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

ALTER FUNCTION public.aol_rebuild(p_chunk integer) OWNER TO aol_owner;

CREATE FUNCTION public.aol_record_and_claim(p_owner text, p_epoch bigint, p_items jsonb, p_limit integer, p_env_proof boolean) RETURNS TABLE(kind text, id bigint, result text, action_type text, payload jsonb, idempotency_key text, attempt integer, proof_mode boolean)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
DECLARE
  v_items boolean := jsonb_array_length(p_items) > 0;
  o record;
  c record;
  v_item jsonb;
  v_n integer;
BEGIN
  IF NOT aol_fence(p_owner, p_epoch, CASE WHEN v_items THEN 'outcomes' ELSE 'claim' END, NULL) THEN
    FOR v_item IN SELECT value FROM jsonb_array_elements(p_items) LOOP
      PERFORM aol_fence(p_owner, p_epoch, v_item->>'type', (v_item->>'id')::bigint);
      RETURN QUERY SELECT 'outcome', (v_item->>'id')::bigint, 'fenced', NULL::text, NULL::jsonb, NULL::text, NULL::integer,
        NULL::boolean;
    END LOOP;
    RETURN QUERY SELECT 'fenced', NULL::bigint, NULL::text, NULL::text, NULL::jsonb, NULL::text, NULL::integer, NULL::boolean;
    RETURN;
  END IF;
  IF v_items THEN
    SELECT * INTO o FROM aol_outcome_events(p_epoch, p_items);
  ELSE
    SELECT NULL::bigint[] AS ids, NULL::text[] AS streams, NULL::text[] AS types, NULL::jsonb[] AS datas,
           NULL::bigint[] AS item_ids, NULL::text[] AS results INTO o;
  END IF;
  IF p_limit > 0 THEN
    SELECT * INTO c FROM aol_claim_events(p_owner, p_epoch, p_limit, p_env_proof);
  ELSE
    SELECT NULL::bigint[] AS ids, NULL::text[] AS streams, NULL::text[] AS types, NULL::jsonb[] AS datas INTO c;
  END IF;
  v_n := coalesce(cardinality(o.ids), 0) + coalesce(cardinality(c.ids), 0);
  IF v_n > 0 THEN
    PERFORM count(*) FROM aol_append_many(o.streams || c.streams, NULL, o.types || c.types, o.datas || c.datas,
      array_fill(aol_worker_metadata(p_owner), ARRAY[v_n]));
  END IF;
  IF v_items THEN
    RETURN QUERY SELECT 'outcome', r.id, r.result, NULL::text, NULL::jsonb, NULL::text, NULL::integer, NULL::boolean
      FROM unnest(o.item_ids, o.results) r(id, result);
  END IF;
  IF c.ids IS NOT NULL THEN
    RETURN QUERY SELECT 'claimed', x.id, NULL::text, x.action_type, x.payload, x.idempotency_key, x.attempt, c.proof
      FROM unnest(c.ids, c.action_types, c.payloads, c.keys, c.attempts) x(id, action_type, payload, idempotency_key, attempt);
  END IF;
END $$;

ALTER FUNCTION public.aol_record_and_claim(p_owner text, p_epoch bigint, p_items jsonb, p_limit integer, p_env_proof boolean) OWNER TO aol_owner;

CREATE FUNCTION public.aol_record_snapshot(p_seq bigint, p_state bytea, p_metadata jsonb) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
DECLARE
  v_sha text;
  v_head bigint;
  v_event bigint;
BEGIN
  IF p_seq IS NULL OR p_state IS NULL THEN
    RAISE EXCEPTION 'a snapshot needs a seq and a state' USING ERRCODE = 'AOL01';
  END IF;
  PERFORM pg_advisory_xact_lock(7310001);
  SELECT max(seq) INTO v_head FROM aol_events;
  IF p_seq < 1 OR p_seq > coalesce(v_head, 0) THEN
    RAISE EXCEPTION 'no snapshot of seq %: the log holds seq 1 to %', p_seq, coalesce(v_head, 0)
      USING ERRCODE = 'AOL01';
  END IF;
  IF EXISTS (SELECT 1 FROM aol_snapshots WHERE seq = p_seq) THEN
    RETURN NULL;
  END IF;
  v_sha := encode(sha256(p_state), 'hex');
  SELECT a.seq INTO v_event
    FROM aol_append_many(ARRAY['log'], NULL, ARRAY['SnapshotTaken'],
           ARRAY[jsonb_build_object('seq', p_seq, 'sha256', v_sha, 'bytes', length(p_state))],
           ARRAY[coalesce(p_metadata, '{}'::jsonb)]) a;
  INSERT INTO aol_snapshots (seq, state, sha256, event_seq) VALUES (p_seq, p_state, v_sha, v_event);
  RETURN v_event;
END $$;

ALTER FUNCTION public.aol_record_snapshot(p_seq bigint, p_state bytea, p_metadata jsonb) OWNER TO aol_owner;

CREATE FUNCTION public.aol_record_tick(p_owner text, p_epoch bigint, p_data jsonb) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
BEGIN
  IF NOT aol_fence(p_owner, p_epoch, 'TickRecorded', NULL) THEN
    RETURN false;
  END IF;
  PERFORM aol_append('tick', NULL, 'TickRecorded', p_data || jsonb_build_object(
    'worker', p_owner, 'epoch', p_epoch, 'finished_at', aol_iso(clock_timestamp())), aol_worker_metadata(p_owner));
  RETURN true;
END $$;

ALTER FUNCTION public.aol_record_tick(p_owner text, p_epoch bigint, p_data jsonb) OWNER TO aol_owner;

CREATE FUNCTION public.aol_recover_orphans(p_owner text, p_epoch bigint, p_idempotent text[], p_max_attempts integer) RETURNS TABLE(id bigint, status text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
DECLARE
  r aol_actions;
  v_msg text;
BEGIN
  IF NOT aol_fence(p_owner, p_epoch, 'recover', NULL) THEN
    RETURN;
  END IF;
  FOR r IN SELECT * FROM aol_actions a WHERE a.status = 'RUNNING' ORDER BY a.id FOR UPDATE LOOP
    v_msg := format('worker %s (epoch %s) lost its lease during attempt %s', r.worker, r.epoch, r.attempts);
    IF r.action_type = ANY (p_idempotent) AND r.attempts >= p_max_attempts THEN
      PERFORM aol_append('action:' || r.id, NULL, 'ActionDeadLettered', jsonb_build_object(
        'attempt', r.attempts, 'error', v_msg || '; no attempts left'), aol_worker_metadata(p_owner));
      RETURN QUERY SELECT r.id, 'DLQ'::text;
    ELSIF r.action_type = ANY (p_idempotent) THEN
      PERFORM aol_append('action:' || r.id, NULL, 'ActionRetryScheduled', jsonb_build_object(
        'attempt', r.attempts, 'error', v_msg || '; retrying with the same idempotency key',
        'retry_at', aol_iso(clock_timestamp()), 'recovered', true), aol_worker_metadata(p_owner));
      RETURN QUERY SELECT r.id, 'RETRY'::text;
    ELSE
      PERFORM aol_append('action:' || r.id, NULL, 'ActionOutcomeUnknown', jsonb_build_object(
        'attempt', r.attempts, 'error', v_msg || '; it may or may not have taken effect, so it is not re-run: retry or cancel it'),
        aol_worker_metadata(p_owner));
      RETURN QUERY SELECT r.id, 'UNKNOWN'::text;
    END IF;
  END LOOP;
END $$;

ALTER FUNCTION public.aol_recover_orphans(p_owner text, p_epoch bigint, p_idempotent text[], p_max_attempts integer) OWNER TO aol_owner;

CREATE FUNCTION public.aol_request_proof_off(p_metadata jsonb) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
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

ALTER FUNCTION public.aol_request_proof_off(p_metadata jsonb) OWNER TO aol_owner;

CREATE FUNCTION public.aol_reset_action() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
BEGIN
  DELETE FROM aol_queue_counts;
  INSERT INTO aol_queue_counts
    SELECT s, 0 FROM unnest(ARRAY['PENDING', 'RUNNING', 'RETRY', 'SUCCESS', 'FAILED', 'DLQ', 'UNKNOWN', 'CANCELLED']) s;
END $$;

ALTER FUNCTION public.aol_reset_action() OWNER TO aol_owner;

CREATE FUNCTION public.aol_reset_control() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
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

ALTER FUNCTION public.aol_reset_control() OWNER TO aol_owner;

CREATE FUNCTION public.aol_reset_lease() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
BEGIN
  DELETE FROM aol_lease;
  DELETE FROM aol_lease_epoch;
  INSERT INTO aol_lease_epoch VALUES (1, 0);
END $$;

ALTER FUNCTION public.aol_reset_lease() OWNER TO aol_owner;

CREATE FUNCTION public.aol_reset_schedule() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
BEGIN
  DELETE FROM aol_schedules;
END $$;

ALTER FUNCTION public.aol_reset_schedule() OWNER TO aol_owner;

CREATE FUNCTION public.aol_reset_tick() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
BEGIN
  DELETE FROM aol_tick_ledger;
END $$;

ALTER FUNCTION public.aol_reset_tick() OWNER TO aol_owner;

CREATE FUNCTION public.aol_secure_objects() RETURNS void
    LANGUAGE plpgsql
    AS $$
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
    IF r.proname NOT IN ('aol_event_content', 'aol_iso', 'aol_iso_ms', 'aol_action_status',
                         'aol_action_message', 'aol_action_level', 'aol_worker_metadata', 'aol_operator_event_types') THEN
      EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = %I, pg_temp', r.fn, v_schema);
    END IF;
  END LOOP;
  IF to_regclass('aol_migrations') IS NOT NULL THEN
    EXECUTE 'GRANT SELECT ON aol_migrations TO aol_auditor';
  END IF;
END $$;

ALTER FUNCTION public.aol_secure_objects() OWNER TO postgres;

CREATE FUNCTION public.aol_snapshots_refuse_change() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
BEGIN
  RAISE EXCEPTION 'aol_snapshots is written only by aol_record_snapshot() and never changed: % refused', TG_OP
    USING ERRCODE = 'AOL01';
END $$;

ALTER FUNCTION public.aol_snapshots_refuse_change() OWNER TO aol_owner;

CREATE FUNCTION public.aol_sql_metadata() RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
  SELECT jsonb_build_object(
    'actor', session_user::text,
    'via', 'sql',
    'reason', coalesce(nullif(current_setting('aol.reason', true), ''), 'runbook SQL'))
$$;

ALTER FUNCTION public.aol_sql_metadata() OWNER TO aol_owner;

CREATE FUNCTION public.aol_take_append_lock() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7310001);
  RETURN NULL;
END $$;

ALTER FUNCTION public.aol_take_append_lock() OWNER TO aol_owner;

CREATE FUNCTION public.aol_worker_beat(p_id text, p_host text, p_pid integer, p_state text, p_epoch bigint, p_ttl_seconds double precision, p_started_at timestamp with time zone) RETURNS timestamp with time zone
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
DECLARE
  t timestamptz := aol_now();
BEGIN
  INSERT INTO aol_workers AS w (id, host, pid, state, epoch, ttl_seconds, started_at_utc, seen_at_utc)
  VALUES (p_id, p_host, p_pid, p_state, p_epoch, p_ttl_seconds, coalesce(p_started_at, t), t)
  ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, epoch = EXCLUDED.epoch,
    ttl_seconds = EXCLUDED.ttl_seconds, started_at_utc = EXCLUDED.started_at_utc,
    seen_at_utc = EXCLUDED.seen_at_utc, left_at_utc = NULL;
  DELETE FROM aol_workers WHERE seen_at_utc < t - interval '1 day';
  RETURN t;
END $$;

ALTER FUNCTION public.aol_worker_beat(p_id text, p_host text, p_pid integer, p_state text, p_epoch bigint, p_ttl_seconds double precision, p_started_at timestamp with time zone) OWNER TO aol_owner;

CREATE FUNCTION public.aol_worker_leave(p_id text) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
  UPDATE aol_workers SET state = 'left', epoch = NULL, seen_at_utc = aol_now(), left_at_utc = aol_now()
   WHERE id = p_id
$$;

ALTER FUNCTION public.aol_worker_leave(p_id text) OWNER TO aol_owner;

CREATE FUNCTION public.aol_worker_metadata(p_owner text) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
  SELECT jsonb_build_object('actor', p_owner, 'via', 'worker')
$$;

ALTER FUNCTION public.aol_worker_metadata(p_owner text) OWNER TO aol_owner;

CREATE FUNCTION public.aol_worker_presence() RETURNS TABLE(id text, host text, pid integer, status text, epoch bigint, ttl_seconds double precision, started_at_utc timestamp with time zone, seen_at_utc timestamp with time zone, left_at_utc timestamp with time zone, seen_age_seconds double precision, now timestamp with time zone)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'public', 'pg_temp'
    AS $$
BEGIN
  -- PL/pgSQL: planned once per session (GET /health/aol calls it on every request)
  RETURN QUERY
  SELECT w.id, w.host, w.pid,
         CASE WHEN w.state = 'left' THEN 'left'
              WHEN w.seen_at_utc + make_interval(secs => w.ttl_seconds) < n.t THEN 'dead'
              ELSE w.state END,
         w.epoch, w.ttl_seconds, w.started_at_utc, w.seen_at_utc, w.left_at_utc,
         greatest(0, extract(epoch FROM n.t - w.seen_at_utc)::double precision), n.t
    FROM aol_workers w, (SELECT aol_now() AS t) n
   ORDER BY w.started_at_utc DESC, w.id;
END $$;

ALTER FUNCTION public.aol_worker_presence() OWNER TO aol_owner;

CREATE SEQUENCE public.aol_action_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER TABLE public.aol_action_id_seq OWNER TO aol_owner;

CREATE TABLE public.aol_actions (
    id bigint NOT NULL,
    idempotency_key text NOT NULL,
    action_type text NOT NULL,
    payload jsonb NOT NULL,
    status text NOT NULL,
    not_before_utc timestamp with time zone NOT NULL,
    attempts integer NOT NULL,
    last_error text,
    created_at_utc timestamp with time zone NOT NULL,
    updated_at_utc timestamp with time zone NOT NULL,
    worker text,
    epoch bigint,
    CONSTRAINT aol_actions_status_check CHECK ((status = ANY (ARRAY['PENDING'::text, 'RUNNING'::text, 'RETRY'::text, 'SUCCESS'::text, 'FAILED'::text, 'DLQ'::text, 'UNKNOWN'::text, 'CANCELLED'::text])))
);

ALTER TABLE public.aol_actions OWNER TO aol_owner;

CREATE TABLE public.aol_artifacts (
    ref text NOT NULL,
    action_id bigint NOT NULL,
    content_type text NOT NULL,
    body bytea NOT NULL,
    sha256 text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE public.aol_artifacts OWNER TO aol_owner;

CREATE TABLE public.aol_clock (
    id integer NOT NULL,
    offset_seconds double precision DEFAULT 0 NOT NULL,
    CONSTRAINT aol_clock_id_check CHECK ((id = 1))
);

ALTER TABLE public.aol_clock OWNER TO aol_owner;

CREATE TABLE public.aol_control_ack (
    id integer NOT NULL,
    control_version integer NOT NULL,
    worker text,
    epoch bigint,
    delay_ms double precision,
    acknowledged_at_utc timestamp with time zone,
    CONSTRAINT aol_control_ack_id_check CHECK ((id = 1))
);

ALTER TABLE public.aol_control_ack OWNER TO aol_owner;

CREATE TABLE public.aol_control_flags (
    id integer NOT NULL,
    paused boolean NOT NULL,
    killed boolean NOT NULL,
    proof_mode boolean NOT NULL,
    updated_at_utc timestamp with time zone,
    version integer NOT NULL,
    CONSTRAINT aol_control_flags_id_check CHECK ((id = 1))
);

ALTER TABLE public.aol_control_flags OWNER TO aol_owner;

CREATE TABLE public.aol_deployment (
    id integer NOT NULL,
    production boolean NOT NULL,
    changed_at_utc timestamp with time zone,
    CONSTRAINT aol_deployment_id_check CHECK ((id = 1))
);

ALTER TABLE public.aol_deployment OWNER TO aol_owner;

CREATE TABLE public.aol_events_000000000001 (
    seq bigint NOT NULL,
    stream text NOT NULL,
    stream_version integer NOT NULL,
    type text NOT NULL,
    data jsonb NOT NULL,
    metadata jsonb NOT NULL,
    occurred_at timestamp with time zone NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL,
    CONSTRAINT aol_events_stream_check CHECK ((stream ~ '^(control|lease|tick|log|alert|schedule|action:[0-9]+)$'::text)),
    CONSTRAINT aol_events_stream_version_check CHECK ((stream_version > 0))
);

ALTER TABLE public.aol_events_000000000001 OWNER TO aol_owner;

CREATE TABLE public.aol_events_000000100001 (
    seq bigint NOT NULL,
    stream text NOT NULL,
    stream_version integer NOT NULL,
    type text NOT NULL,
    data jsonb NOT NULL,
    metadata jsonb NOT NULL,
    occurred_at timestamp with time zone NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL,
    CONSTRAINT aol_events_stream_check CHECK ((stream ~ '^(control|lease|tick|log|alert|schedule|action:[0-9]+)$'::text)),
    CONSTRAINT aol_events_stream_version_check CHECK ((stream_version > 0))
);

ALTER TABLE public.aol_events_000000100001 OWNER TO aol_owner;

CREATE TABLE public.aol_events_horizon (
    id integer NOT NULL,
    upper bigint NOT NULL,
    CONSTRAINT aol_events_horizon_id_check CHECK ((id = 1))
);

ALTER TABLE public.aol_events_horizon OWNER TO aol_owner;

CREATE TABLE public.aol_execution_logs (
    seq bigint NOT NULL,
    action_id bigint NOT NULL,
    ts_utc timestamp with time zone NOT NULL,
    level text NOT NULL,
    message text NOT NULL,
    artifact_ref text,
    artifact_sha256 text
);

ALTER TABLE public.aol_execution_logs OWNER TO aol_owner;

CREATE TABLE public.aol_lease (
    owner text NOT NULL,
    epoch bigint NOT NULL,
    acquired_at_utc timestamp with time zone NOT NULL,
    renewed_at_utc timestamp with time zone NOT NULL,
    expires_at_utc timestamp with time zone NOT NULL
);

ALTER TABLE public.aol_lease OWNER TO aol_owner;

CREATE TABLE public.aol_lease_epoch (
    id integer NOT NULL,
    epoch bigint NOT NULL,
    CONSTRAINT aol_lease_epoch_id_check CHECK ((id = 1))
);

ALTER TABLE public.aol_lease_epoch OWNER TO aol_owner;

CREATE TABLE public.aol_migrations (
    version integer NOT NULL,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE public.aol_migrations OWNER TO postgres;

CREATE TABLE public.aol_proof_requests (
    request_id text NOT NULL,
    requested_by text NOT NULL,
    reason text,
    requested_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    status text NOT NULL,
    decided_by text,
    decided_at timestamp with time zone,
    CONSTRAINT aol_proof_requests_status_check CHECK ((status = ANY (ARRAY['PENDING'::text, 'APPROVED'::text, 'EXPIRED'::text])))
);

ALTER TABLE public.aol_proof_requests OWNER TO aol_owner;

CREATE TABLE public.aol_queue_counts (
    status text NOT NULL,
    n bigint NOT NULL
);

ALTER TABLE public.aol_queue_counts OWNER TO aol_owner;

CREATE TABLE public.aol_schedules (
    schedule_id text NOT NULL,
    cron text NOT NULL,
    time_zone text NOT NULL,
    action_type text NOT NULL,
    payload jsonb NOT NULL,
    missed_fires text NOT NULL,
    catch_up_max integer,
    status text NOT NULL,
    handled_through_utc timestamp with time zone NOT NULL,
    next_fire_utc timestamp with time zone,
    fired integer NOT NULL,
    missed integer NOT NULL,
    last_fire_utc timestamp with time zone,
    last_action_id bigint,
    reason text,
    created_by text NOT NULL,
    created_at_utc timestamp with time zone NOT NULL,
    updated_at_utc timestamp with time zone NOT NULL,
    CONSTRAINT aol_schedules_missed_fires_check CHECK ((missed_fires = ANY (ARRAY['skip'::text, 'catch_up'::text]))),
    CONSTRAINT aol_schedules_status_check CHECK ((status = ANY (ARRAY['ACTIVE'::text, 'PAUSED'::text, 'DELETED'::text])))
);

ALTER TABLE public.aol_schedules OWNER TO aol_owner;

CREATE TABLE public.aol_scoped_pauses (
    pause_id text NOT NULL,
    action_types text[],
    until_utc timestamp with time zone,
    reason text,
    started_by text NOT NULL,
    started_at_utc timestamp with time zone NOT NULL,
    ended_at_utc timestamp with time zone,
    expired boolean,
    ended_by text
);

ALTER TABLE public.aol_scoped_pauses OWNER TO aol_owner;

CREATE TABLE public.aol_snapshots (
    seq bigint NOT NULL,
    state bytea NOT NULL,
    sha256 text NOT NULL,
    event_seq bigint NOT NULL,
    taken_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT aol_snapshots_seq_check CHECK ((seq > 0)),
    CONSTRAINT aol_snapshots_sha256_check CHECK ((sha256 ~ '^[0-9a-f]{64}$'::text))
);

ALTER TABLE public.aol_snapshots OWNER TO aol_owner;

CREATE TABLE public.aol_tick_ledger (
    seq bigint NOT NULL,
    started_at_utc timestamp with time zone NOT NULL,
    finished_at_utc timestamp with time zone NOT NULL,
    status text NOT NULL,
    actions_attempted integer NOT NULL,
    actions_succeeded integer NOT NULL,
    notes text NOT NULL,
    worker text NOT NULL,
    epoch bigint NOT NULL,
    CONSTRAINT aol_tick_ledger_status_check CHECK ((status = ANY (ARRAY['SUCCESS'::text, 'PARTIAL'::text, 'FAIL'::text, 'PAUSED'::text])))
);

ALTER TABLE public.aol_tick_ledger OWNER TO aol_owner;

CREATE TABLE public.aol_workers (
    id text NOT NULL,
    host text NOT NULL,
    pid integer NOT NULL,
    state text NOT NULL,
    epoch bigint,
    ttl_seconds double precision NOT NULL,
    started_at_utc timestamp with time zone NOT NULL,
    seen_at_utc timestamp with time zone NOT NULL,
    left_at_utc timestamp with time zone,
    CONSTRAINT aol_workers_state_check CHECK ((state = ANY (ARRAY['standby'::text, 'active'::text, 'stopping'::text, 'left'::text]))),
    CONSTRAINT aol_workers_ttl_seconds_check CHECK ((ttl_seconds > (0)::double precision))
);

ALTER TABLE public.aol_workers OWNER TO aol_owner;

ALTER TABLE ONLY public.aol_events ATTACH PARTITION public.aol_events_000000000001 FOR VALUES FROM ('1') TO ('100001');

ALTER TABLE ONLY public.aol_events ATTACH PARTITION public.aol_events_000000100001 FOR VALUES FROM ('100001') TO ('200001');

ALTER TABLE ONLY public.aol_actions
    ADD CONSTRAINT aol_actions_idempotency_key_key UNIQUE (idempotency_key);

ALTER TABLE ONLY public.aol_actions
    ADD CONSTRAINT aol_actions_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.aol_artifacts
    ADD CONSTRAINT aol_artifacts_pkey PRIMARY KEY (ref);

ALTER TABLE ONLY public.aol_clock
    ADD CONSTRAINT aol_clock_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.aol_control_ack
    ADD CONSTRAINT aol_control_ack_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.aol_control_flags
    ADD CONSTRAINT aol_control_flags_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.aol_deployment
    ADD CONSTRAINT aol_deployment_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.aol_events
    ADD CONSTRAINT aol_events_pkey PRIMARY KEY (seq);

ALTER TABLE ONLY public.aol_events_000000000001
    ADD CONSTRAINT aol_events_000000000001_pkey PRIMARY KEY (seq);

ALTER TABLE ONLY public.aol_events_000000100001
    ADD CONSTRAINT aol_events_000000100001_pkey PRIMARY KEY (seq);

ALTER TABLE ONLY public.aol_events_horizon
    ADD CONSTRAINT aol_events_horizon_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.aol_execution_logs
    ADD CONSTRAINT aol_execution_logs_pkey PRIMARY KEY (seq);

ALTER TABLE ONLY public.aol_lease_epoch
    ADD CONSTRAINT aol_lease_epoch_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.aol_migrations
    ADD CONSTRAINT aol_migrations_pkey PRIMARY KEY (version);

ALTER TABLE ONLY public.aol_proof_requests
    ADD CONSTRAINT aol_proof_requests_pkey PRIMARY KEY (request_id);

ALTER TABLE ONLY public.aol_queue_counts
    ADD CONSTRAINT aol_queue_counts_pkey PRIMARY KEY (status);

ALTER TABLE ONLY public.aol_schedules
    ADD CONSTRAINT aol_schedules_pkey PRIMARY KEY (schedule_id);

ALTER TABLE ONLY public.aol_scoped_pauses
    ADD CONSTRAINT aol_scoped_pauses_pkey PRIMARY KEY (pause_id);

ALTER TABLE ONLY public.aol_snapshots
    ADD CONSTRAINT aol_snapshots_event_seq_key UNIQUE (event_seq);

ALTER TABLE ONLY public.aol_snapshots
    ADD CONSTRAINT aol_snapshots_pkey PRIMARY KEY (seq);

ALTER TABLE ONLY public.aol_tick_ledger
    ADD CONSTRAINT aol_tick_ledger_pkey PRIMARY KEY (seq);

ALTER TABLE ONLY public.aol_workers
    ADD CONSTRAINT aol_workers_pkey PRIMARY KEY (id);

CREATE INDEX aol_actions_due ON public.aol_actions USING btree (not_before_utc, id) WHERE (status = ANY (ARRAY['PENDING'::text, 'RETRY'::text]));

CREATE INDEX aol_actions_status ON public.aol_actions USING btree (status, id);

CREATE INDEX aol_artifacts_action ON public.aol_artifacts USING btree (action_id);

CREATE INDEX aol_events_alert_name ON ONLY public.aol_events USING btree (((data ->> 'alert'::text)), seq) WHERE (stream = 'alert'::text);

CREATE INDEX aol_events_000000000001_expr_seq_idx ON public.aol_events_000000000001 USING btree (((data ->> 'alert'::text)), seq) WHERE (stream = 'alert'::text);

CREATE INDEX aol_events_occurred_at ON ONLY public.aol_events USING btree (occurred_at);

CREATE INDEX aol_events_000000000001_occurred_at_idx ON public.aol_events_000000000001 USING btree (occurred_at);

CREATE INDEX aol_events_stream_seq ON ONLY public.aol_events USING btree (stream, seq);

CREATE INDEX aol_events_000000000001_stream_seq_idx ON public.aol_events_000000000001 USING btree (stream, seq);

CREATE INDEX aol_events_stream_version ON ONLY public.aol_events USING btree (stream, stream_version);

CREATE INDEX aol_events_000000000001_stream_stream_version_idx ON public.aol_events_000000000001 USING btree (stream, stream_version);

CREATE INDEX aol_events_type_seq ON ONLY public.aol_events USING btree (type, seq);

CREATE INDEX aol_events_000000000001_type_seq_idx ON public.aol_events_000000000001 USING btree (type, seq);

CREATE INDEX aol_events_000000100001_expr_seq_idx ON public.aol_events_000000100001 USING btree (((data ->> 'alert'::text)), seq) WHERE (stream = 'alert'::text);

CREATE INDEX aol_events_000000100001_occurred_at_idx ON public.aol_events_000000100001 USING btree (occurred_at);

CREATE INDEX aol_events_000000100001_stream_seq_idx ON public.aol_events_000000100001 USING btree (stream, seq);

CREATE INDEX aol_events_000000100001_stream_stream_version_idx ON public.aol_events_000000100001 USING btree (stream, stream_version);

CREATE INDEX aol_events_000000100001_type_seq_idx ON public.aol_events_000000100001 USING btree (type, seq);

CREATE INDEX aol_execution_logs_action ON public.aol_execution_logs USING btree (action_id, seq);

CREATE UNIQUE INDEX aol_lease_single_row ON public.aol_lease USING btree ((true));

CREATE INDEX aol_proof_requests_pending ON public.aol_proof_requests USING btree (requested_at DESC) WHERE (status = 'PENDING'::text);

CREATE INDEX aol_schedules_due ON public.aol_schedules USING btree (next_fire_utc) WHERE (status = 'ACTIVE'::text);

CREATE INDEX aol_scoped_pauses_active ON public.aol_scoped_pauses USING btree (until_utc) WHERE (ended_at_utc IS NULL);

CREATE INDEX aol_tick_ledger_finished ON public.aol_tick_ledger USING btree (finished_at_utc DESC);

CREATE INDEX aol_workers_seen_at ON public.aol_workers USING btree (seen_at_utc);

ALTER INDEX public.aol_events_alert_name ATTACH PARTITION public.aol_events_000000000001_expr_seq_idx;

ALTER INDEX public.aol_events_occurred_at ATTACH PARTITION public.aol_events_000000000001_occurred_at_idx;

ALTER INDEX public.aol_events_pkey ATTACH PARTITION public.aol_events_000000000001_pkey;

ALTER INDEX public.aol_events_stream_seq ATTACH PARTITION public.aol_events_000000000001_stream_seq_idx;

ALTER INDEX public.aol_events_stream_version ATTACH PARTITION public.aol_events_000000000001_stream_stream_version_idx;

ALTER INDEX public.aol_events_type_seq ATTACH PARTITION public.aol_events_000000000001_type_seq_idx;

ALTER INDEX public.aol_events_alert_name ATTACH PARTITION public.aol_events_000000100001_expr_seq_idx;

ALTER INDEX public.aol_events_occurred_at ATTACH PARTITION public.aol_events_000000100001_occurred_at_idx;

ALTER INDEX public.aol_events_pkey ATTACH PARTITION public.aol_events_000000100001_pkey;

ALTER INDEX public.aol_events_stream_seq ATTACH PARTITION public.aol_events_000000100001_stream_seq_idx;

ALTER INDEX public.aol_events_stream_version ATTACH PARTITION public.aol_events_000000100001_stream_stream_version_idx;

ALTER INDEX public.aol_events_type_seq ATTACH PARTITION public.aol_events_000000100001_type_seq_idx;

CREATE TRIGGER aol_actions_lock_first BEFORE INSERT OR DELETE OR UPDATE ON public.aol_actions FOR EACH STATEMENT WHEN ((CURRENT_USER <> 'aol_owner'::name)) EXECUTE FUNCTION public.aol_take_append_lock();

CREATE TRIGGER aol_actions_no_truncate BEFORE TRUNCATE ON public.aol_actions FOR EACH STATEMENT WHEN ((CURRENT_USER <> 'aol_owner'::name)) EXECUTE FUNCTION public.aol_read_model_guard();

CREATE TRIGGER aol_actions_runbook AFTER INSERT OR DELETE OR UPDATE ON public.aol_actions FOR EACH ROW WHEN ((CURRENT_USER <> 'aol_owner'::name)) EXECUTE FUNCTION public.aol_actions_runbook();

CREATE TRIGGER aol_clock_lock_first BEFORE INSERT OR DELETE OR UPDATE ON public.aol_clock FOR EACH STATEMENT WHEN ((CURRENT_USER <> 'aol_owner'::name)) EXECUTE FUNCTION public.aol_take_append_lock();

CREATE TRIGGER aol_clock_no_truncate BEFORE TRUNCATE ON public.aol_clock FOR EACH STATEMENT WHEN ((CURRENT_USER <> 'aol_owner'::name)) EXECUTE FUNCTION public.aol_read_model_guard();

CREATE TRIGGER aol_clock_runbook AFTER INSERT OR DELETE OR UPDATE ON public.aol_clock FOR EACH ROW WHEN ((CURRENT_USER <> 'aol_owner'::name)) EXECUTE FUNCTION public.aol_clock_runbook();

CREATE TRIGGER aol_control_ack_guard AFTER INSERT OR DELETE OR UPDATE ON public.aol_control_ack FOR EACH ROW WHEN ((CURRENT_USER <> 'aol_owner'::name)) EXECUTE FUNCTION public.aol_read_model_guard();

CREATE TRIGGER aol_control_ack_no_truncate BEFORE TRUNCATE ON public.aol_control_ack FOR EACH STATEMENT WHEN ((CURRENT_USER <> 'aol_owner'::name)) EXECUTE FUNCTION public.aol_read_model_guard();

CREATE TRIGGER aol_control_flags_lock_first BEFORE INSERT OR DELETE OR UPDATE ON public.aol_control_flags FOR EACH STATEMENT WHEN ((CURRENT_USER <> 'aol_owner'::name)) EXECUTE FUNCTION public.aol_take_append_lock();

CREATE TRIGGER aol_control_flags_no_truncate BEFORE TRUNCATE ON public.aol_control_flags FOR EACH STATEMENT WHEN ((CURRENT_USER <> 'aol_owner'::name)) EXECUTE FUNCTION public.aol_read_model_guard();

CREATE TRIGGER aol_control_flags_runbook AFTER INSERT OR DELETE OR UPDATE ON public.aol_control_flags FOR EACH ROW WHEN ((CURRENT_USER <> 'aol_owner'::name)) EXECUTE FUNCTION public.aol_control_flags_runbook();

CREATE TRIGGER aol_deployment_guard BEFORE INSERT OR DELETE OR UPDATE OR TRUNCATE ON public.aol_deployment FOR EACH STATEMENT WHEN ((CURRENT_USER <> 'aol_owner'::name)) EXECUTE FUNCTION public.aol_read_model_guard();

CREATE TRIGGER aol_events_insert_by_append BEFORE INSERT ON public.aol_events FOR EACH STATEMENT WHEN ((CURRENT_USER <> 'aol_owner'::name)) EXECUTE FUNCTION public.aol_events_refuse_change();

CREATE TRIGGER aol_events_no_truncate BEFORE TRUNCATE ON public.aol_events FOR EACH STATEMENT EXECUTE FUNCTION public.aol_events_refuse_change();

CREATE TRIGGER aol_events_no_update BEFORE DELETE OR UPDATE ON public.aol_events FOR EACH ROW EXECUTE FUNCTION public.aol_events_refuse_change();

CREATE TRIGGER aol_events_partition_insert_by_append BEFORE INSERT ON public.aol_events_000000000001 FOR EACH STATEMENT EXECUTE FUNCTION public.aol_events_refuse_change();

CREATE TRIGGER aol_events_partition_insert_by_append BEFORE INSERT ON public.aol_events_000000100001 FOR EACH STATEMENT EXECUTE FUNCTION public.aol_events_refuse_change();

CREATE TRIGGER aol_events_partition_no_truncate BEFORE TRUNCATE ON public.aol_events_000000000001 FOR EACH STATEMENT EXECUTE FUNCTION public.aol_events_refuse_change();

CREATE TRIGGER aol_events_partition_no_truncate BEFORE TRUNCATE ON public.aol_events_000000100001 FOR EACH STATEMENT EXECUTE FUNCTION public.aol_events_refuse_change();

CREATE TRIGGER aol_execution_logs_guard BEFORE INSERT OR DELETE OR UPDATE OR TRUNCATE ON public.aol_execution_logs FOR EACH STATEMENT WHEN ((CURRENT_USER <> 'aol_owner'::name)) EXECUTE FUNCTION public.aol_read_model_guard();

CREATE TRIGGER aol_lease_epoch_guard AFTER INSERT OR DELETE OR UPDATE ON public.aol_lease_epoch FOR EACH ROW WHEN ((CURRENT_USER <> 'aol_owner'::name)) EXECUTE FUNCTION public.aol_read_model_guard();

CREATE TRIGGER aol_lease_epoch_no_truncate BEFORE TRUNCATE ON public.aol_lease_epoch FOR EACH STATEMENT WHEN ((CURRENT_USER <> 'aol_owner'::name)) EXECUTE FUNCTION public.aol_read_model_guard();

CREATE TRIGGER aol_lease_lock_first BEFORE INSERT OR DELETE OR UPDATE ON public.aol_lease FOR EACH STATEMENT WHEN ((CURRENT_USER <> 'aol_owner'::name)) EXECUTE FUNCTION public.aol_take_append_lock();

CREATE TRIGGER aol_lease_no_truncate BEFORE TRUNCATE ON public.aol_lease FOR EACH STATEMENT WHEN ((CURRENT_USER <> 'aol_owner'::name)) EXECUTE FUNCTION public.aol_read_model_guard();

CREATE TRIGGER aol_lease_runbook AFTER INSERT OR DELETE OR UPDATE ON public.aol_lease FOR EACH ROW WHEN ((CURRENT_USER <> 'aol_owner'::name)) EXECUTE FUNCTION public.aol_lease_runbook();

CREATE TRIGGER aol_proof_requests_guard AFTER INSERT OR DELETE OR UPDATE ON public.aol_proof_requests FOR EACH ROW WHEN ((CURRENT_USER <> 'aol_owner'::name)) EXECUTE FUNCTION public.aol_read_model_guard();

CREATE TRIGGER aol_proof_requests_no_truncate BEFORE TRUNCATE ON public.aol_proof_requests FOR EACH STATEMENT WHEN ((CURRENT_USER <> 'aol_owner'::name)) EXECUTE FUNCTION public.aol_read_model_guard();

CREATE TRIGGER aol_queue_counts_guard AFTER INSERT OR DELETE OR UPDATE ON public.aol_queue_counts FOR EACH ROW WHEN ((CURRENT_USER <> 'aol_owner'::name)) EXECUTE FUNCTION public.aol_read_model_guard();

CREATE TRIGGER aol_queue_counts_no_truncate BEFORE TRUNCATE ON public.aol_queue_counts FOR EACH STATEMENT WHEN ((CURRENT_USER <> 'aol_owner'::name)) EXECUTE FUNCTION public.aol_read_model_guard();

CREATE TRIGGER aol_schedules_guard AFTER INSERT OR DELETE OR UPDATE ON public.aol_schedules FOR EACH ROW WHEN ((CURRENT_USER <> 'aol_owner'::name)) EXECUTE FUNCTION public.aol_read_model_guard();

CREATE TRIGGER aol_schedules_no_truncate BEFORE TRUNCATE ON public.aol_schedules FOR EACH STATEMENT WHEN ((CURRENT_USER <> 'aol_owner'::name)) EXECUTE FUNCTION public.aol_read_model_guard();

CREATE TRIGGER aol_scoped_pauses_guard AFTER INSERT OR DELETE OR UPDATE ON public.aol_scoped_pauses FOR EACH ROW WHEN ((CURRENT_USER <> 'aol_owner'::name)) EXECUTE FUNCTION public.aol_read_model_guard();

CREATE TRIGGER aol_snapshots_insert_by_record BEFORE INSERT ON public.aol_snapshots FOR EACH STATEMENT WHEN ((CURRENT_USER <> 'aol_owner'::name)) EXECUTE FUNCTION public.aol_snapshots_refuse_change();

CREATE TRIGGER aol_snapshots_no_change BEFORE DELETE OR UPDATE ON public.aol_snapshots FOR EACH STATEMENT EXECUTE FUNCTION public.aol_snapshots_refuse_change();

CREATE TRIGGER aol_snapshots_no_truncate BEFORE TRUNCATE ON public.aol_snapshots FOR EACH STATEMENT EXECUTE FUNCTION public.aol_snapshots_refuse_change();

CREATE TRIGGER aol_tick_ledger_guard BEFORE INSERT OR DELETE OR UPDATE OR TRUNCATE ON public.aol_tick_ledger FOR EACH STATEMENT WHEN ((CURRENT_USER <> 'aol_owner'::name)) EXECUTE FUNCTION public.aol_read_model_guard();

GRANT ALL ON SCHEMA public TO aol_owner;
GRANT USAGE ON SCHEMA public TO aol_admin;
GRANT USAGE ON SCHEMA public TO aol_auditor;
GRANT USAGE ON SCHEMA public TO aol_operator;
GRANT USAGE ON SCHEMA public TO aol_service;

GRANT ALL ON FUNCTION public.aol_ack_control(p_owner text, p_epoch bigint, p_version integer) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_ack_control(p_owner text, p_epoch bigint, p_version integer) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_action_level(p_type text) TO aol_auditor;
GRANT ALL ON FUNCTION public.aol_action_level(p_type text) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_action_level(p_type text) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_action_message(p_type text, d jsonb) TO aol_auditor;
GRANT ALL ON FUNCTION public.aol_action_message(p_type text, d jsonb) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_action_message(p_type text, d jsonb) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_action_status(p_type text) TO aol_auditor;
GRANT ALL ON FUNCTION public.aol_action_status(p_type text) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_action_status(p_type text) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_actions_runbook() TO aol_service;
REVOKE ALL ON FUNCTION public.aol_actions_runbook() FROM PUBLIC;

GRANT SELECT ON TABLE public.aol_events TO aol_auditor;

GRANT ALL ON FUNCTION public.aol_append(p_stream text, p_expected integer, p_type text, p_data jsonb, p_metadata jsonb) TO aol_operator;
GRANT ALL ON FUNCTION public.aol_append(p_stream text, p_expected integer, p_type text, p_data jsonb, p_metadata jsonb) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_append(p_stream text, p_expected integer, p_type text, p_data jsonb, p_metadata jsonb) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_append_batch(p_events jsonb) TO aol_operator;
GRANT ALL ON FUNCTION public.aol_append_batch(p_events jsonb) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_append_batch(p_events jsonb) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_append_many(p_stream text[], p_expected integer[], p_type text[], p_data jsonb[], p_metadata jsonb[]) TO aol_operator;
GRANT ALL ON FUNCTION public.aol_append_many(p_stream text[], p_expected integer[], p_type text[], p_data jsonb[], p_metadata jsonb[]) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_append_many(p_stream text[], p_expected integer[], p_type text[], p_data jsonb[], p_metadata jsonb[]) FROM PUBLIC;

REVOKE ALL ON FUNCTION public.aol_append_raw(p_stream text[], p_expected integer[], p_type text[], p_data jsonb[], p_metadata jsonb[]) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_apply_actions(p_seq bigint[], p_stream text[], p_type text[], p_data jsonb[], p_at timestamp with time zone[], p_rebuild boolean) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_apply_actions(p_seq bigint[], p_stream text[], p_type text[], p_data jsonb[], p_at timestamp with time zone[], p_rebuild boolean) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_apply_control(e public.aol_events) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_apply_control(e public.aol_events) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_apply_events(p_seq bigint[], p_stream text[], p_version integer[], p_type text[], p_data jsonb[], p_metadata jsonb[], p_at timestamp with time zone[]) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_apply_events(p_seq bigint[], p_stream text[], p_version integer[], p_type text[], p_data jsonb[], p_metadata jsonb[], p_at timestamp with time zone[]) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_apply_lease(e public.aol_events) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_apply_lease(e public.aol_events) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_apply_schedule(e public.aol_events) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_apply_schedule(e public.aol_events) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_apply_ticks(p_seq bigint[], p_stream text[], p_type text[], p_data jsonb[]) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_apply_ticks(p_seq bigint[], p_stream text[], p_type text[], p_data jsonb[]) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_approve_proof_off(p_request_id text, p_reason text) TO aol_admin;
GRANT ALL ON FUNCTION public.aol_approve_proof_off(p_request_id text, p_reason text) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_approve_proof_off(p_request_id text, p_reason text) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_archive_segment(p_data jsonb, p_reason text, p_via text) TO aol_admin;
GRANT ALL ON FUNCTION public.aol_archive_segment(p_data jsonb, p_reason text, p_via text) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_archive_segment(p_data jsonb, p_reason text, p_via text) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_claim_events(p_owner text, p_epoch bigint, p_limit integer, p_env_proof boolean, OUT ids bigint[], OUT streams text[], OUT types text[], OUT datas jsonb[], OUT proof boolean, OUT action_types text[], OUT payloads jsonb[], OUT keys text[], OUT attempts integer[]) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_claim_events(p_owner text, p_epoch bigint, p_limit integer, p_env_proof boolean, OUT ids bigint[], OUT streams text[], OUT types text[], OUT datas jsonb[], OUT proof boolean, OUT action_types text[], OUT payloads jsonb[], OUT keys text[], OUT attempts integer[]) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_clear_production(p_reason text, p_via text) TO aol_admin;
GRANT ALL ON FUNCTION public.aol_clear_production(p_reason text, p_via text) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_clear_production(p_reason text, p_via text) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_clock_runbook() TO aol_service;
REVOKE ALL ON FUNCTION public.aol_clock_runbook() FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_control_flags_runbook() TO aol_service;
REVOKE ALL ON FUNCTION public.aol_control_flags_runbook() FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_event_content(p_seq bigint, p_stream text, p_version integer, p_type text, p_data jsonb, p_metadata jsonb, p_occurred_at timestamp with time zone) TO aol_auditor;
GRANT ALL ON FUNCTION public.aol_event_content(p_seq bigint, p_stream text, p_version integer, p_type text, p_data jsonb, p_metadata jsonb, p_occurred_at timestamp with time zone) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_event_content(p_seq bigint, p_stream text, p_version integer, p_type text, p_data jsonb, p_metadata jsonb, p_occurred_at timestamp with time zone) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_events_create_partition(p_from bigint, p_to bigint) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_events_create_partition(p_from bigint, p_to bigint) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_events_ensure_partitions(p_upto bigint) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_events_ensure_partitions(p_upto bigint) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_events_guard_partitions() TO aol_service;
REVOKE ALL ON FUNCTION public.aol_events_guard_partitions() FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_events_partition_rows() TO aol_auditor;
GRANT ALL ON FUNCTION public.aol_events_partition_rows() TO aol_service;
REVOKE ALL ON FUNCTION public.aol_events_partition_rows() FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_events_partitions() TO aol_auditor;
GRANT ALL ON FUNCTION public.aol_events_partitions() TO aol_service;
REVOKE ALL ON FUNCTION public.aol_events_partitions() FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_events_refuse_change() TO aol_service;
REVOKE ALL ON FUNCTION public.aol_events_refuse_change() FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_expire_proof_requests(p_metadata jsonb) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_expire_proof_requests(p_metadata jsonb) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_expire_scoped_pauses(p_actor text) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_expire_scoped_pauses(p_actor text) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_fence(p_owner text, p_epoch bigint, p_attempted text, p_action_id bigint) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_fence(p_owner text, p_epoch bigint, p_attempted text, p_action_id bigint) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_health_inputs() TO aol_auditor;
GRANT ALL ON FUNCTION public.aol_health_inputs() TO aol_service;
REVOKE ALL ON FUNCTION public.aol_health_inputs() FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_is_production() TO aol_auditor;
GRANT ALL ON FUNCTION public.aol_is_production() TO aol_service;
REVOKE ALL ON FUNCTION public.aol_is_production() FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_iso(t timestamp with time zone) TO aol_auditor;
GRANT ALL ON FUNCTION public.aol_iso(t timestamp with time zone) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_iso(t timestamp with time zone) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_iso_ms(t timestamp with time zone) TO aol_auditor;
GRANT ALL ON FUNCTION public.aol_iso_ms(t timestamp with time zone) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_iso_ms(t timestamp with time zone) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_lease_acquire(p_owner text, p_ttl_seconds double precision) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_lease_acquire(p_owner text, p_ttl_seconds double precision) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_lease_force_release(p_metadata jsonb) TO aol_admin;
GRANT ALL ON FUNCTION public.aol_lease_force_release(p_metadata jsonb) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_lease_force_release(p_metadata jsonb) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_lease_release(p_owner text, p_epoch bigint) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_lease_release(p_owner text, p_epoch bigint) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_lease_renew(p_owner text, p_epoch bigint, p_ttl_seconds double precision) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_lease_renew(p_owner text, p_epoch bigint, p_ttl_seconds double precision) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_lease_runbook() TO aol_service;
REVOKE ALL ON FUNCTION public.aol_lease_runbook() FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_mark_production(p_via text) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_mark_production(p_via text) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_now() TO aol_auditor;
GRANT ALL ON FUNCTION public.aol_now() TO aol_service;
REVOKE ALL ON FUNCTION public.aol_now() FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_operator_event_types() TO aol_auditor;
GRANT ALL ON FUNCTION public.aol_operator_event_types() TO aol_service;
REVOKE ALL ON FUNCTION public.aol_operator_event_types() FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_outcome_events(p_epoch bigint, p_items jsonb, OUT ids bigint[], OUT streams text[], OUT types text[], OUT datas jsonb[], OUT item_ids bigint[], OUT results text[]) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_outcome_events(p_epoch bigint, p_items jsonb, OUT ids bigint[], OUT streams text[], OUT types text[], OUT datas jsonb[], OUT item_ids bigint[], OUT results text[]) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_read_model_guard() TO aol_service;
REVOKE ALL ON FUNCTION public.aol_read_model_guard() FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_rebuild(p_chunk integer) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_rebuild(p_chunk integer) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_record_and_claim(p_owner text, p_epoch bigint, p_items jsonb, p_limit integer, p_env_proof boolean) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_record_and_claim(p_owner text, p_epoch bigint, p_items jsonb, p_limit integer, p_env_proof boolean) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_record_snapshot(p_seq bigint, p_state bytea, p_metadata jsonb) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_record_snapshot(p_seq bigint, p_state bytea, p_metadata jsonb) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_record_tick(p_owner text, p_epoch bigint, p_data jsonb) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_record_tick(p_owner text, p_epoch bigint, p_data jsonb) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_recover_orphans(p_owner text, p_epoch bigint, p_idempotent text[], p_max_attempts integer) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_recover_orphans(p_owner text, p_epoch bigint, p_idempotent text[], p_max_attempts integer) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_request_proof_off(p_metadata jsonb) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_request_proof_off(p_metadata jsonb) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_reset_action() TO aol_service;
REVOKE ALL ON FUNCTION public.aol_reset_action() FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_reset_control() TO aol_service;
REVOKE ALL ON FUNCTION public.aol_reset_control() FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_reset_lease() TO aol_service;
REVOKE ALL ON FUNCTION public.aol_reset_lease() FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_reset_schedule() TO aol_service;
REVOKE ALL ON FUNCTION public.aol_reset_schedule() FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_reset_tick() TO aol_service;
REVOKE ALL ON FUNCTION public.aol_reset_tick() FROM PUBLIC;

REVOKE ALL ON FUNCTION public.aol_secure_objects() FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_snapshots_refuse_change() TO aol_service;
REVOKE ALL ON FUNCTION public.aol_snapshots_refuse_change() FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_sql_metadata() TO aol_service;
REVOKE ALL ON FUNCTION public.aol_sql_metadata() FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_take_append_lock() TO aol_service;
REVOKE ALL ON FUNCTION public.aol_take_append_lock() FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_worker_beat(p_id text, p_host text, p_pid integer, p_state text, p_epoch bigint, p_ttl_seconds double precision, p_started_at timestamp with time zone) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_worker_beat(p_id text, p_host text, p_pid integer, p_state text, p_epoch bigint, p_ttl_seconds double precision, p_started_at timestamp with time zone) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_worker_leave(p_id text) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_worker_leave(p_id text) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_worker_metadata(p_owner text) TO aol_service;
REVOKE ALL ON FUNCTION public.aol_worker_metadata(p_owner text) FROM PUBLIC;

GRANT ALL ON FUNCTION public.aol_worker_presence() TO aol_auditor;
GRANT ALL ON FUNCTION public.aol_worker_presence() TO aol_service;
REVOKE ALL ON FUNCTION public.aol_worker_presence() FROM PUBLIC;

GRANT SELECT ON SEQUENCE public.aol_action_id_seq TO aol_auditor;
GRANT USAGE ON SEQUENCE public.aol_action_id_seq TO aol_operator;
GRANT USAGE ON SEQUENCE public.aol_action_id_seq TO aol_service;

GRANT SELECT ON TABLE public.aol_actions TO aol_auditor;

GRANT UPDATE(status) ON TABLE public.aol_actions TO aol_operator;

GRANT INSERT ON TABLE public.aol_artifacts TO aol_service;
GRANT SELECT ON TABLE public.aol_artifacts TO aol_auditor;

GRANT SELECT ON TABLE public.aol_clock TO aol_auditor;

GRANT UPDATE(offset_seconds) ON TABLE public.aol_clock TO aol_admin;

GRANT SELECT ON TABLE public.aol_control_ack TO aol_auditor;

GRANT SELECT ON TABLE public.aol_control_flags TO aol_auditor;

GRANT UPDATE(paused) ON TABLE public.aol_control_flags TO aol_operator;

GRANT UPDATE(killed) ON TABLE public.aol_control_flags TO aol_operator;

GRANT UPDATE(proof_mode) ON TABLE public.aol_control_flags TO aol_operator;

GRANT SELECT ON TABLE public.aol_deployment TO aol_auditor;

GRANT SELECT ON TABLE public.aol_events_000000000001 TO aol_auditor;

GRANT SELECT ON TABLE public.aol_events_000000100001 TO aol_auditor;

GRANT SELECT ON TABLE public.aol_events_horizon TO aol_auditor;

GRANT SELECT ON TABLE public.aol_execution_logs TO aol_auditor;

GRANT DELETE ON TABLE public.aol_lease TO aol_operator;
GRANT SELECT ON TABLE public.aol_lease TO aol_auditor;

GRANT SELECT ON TABLE public.aol_lease_epoch TO aol_auditor;

GRANT SELECT ON TABLE public.aol_migrations TO aol_auditor;

GRANT SELECT ON TABLE public.aol_proof_requests TO aol_auditor;

GRANT SELECT ON TABLE public.aol_queue_counts TO aol_auditor;

GRANT SELECT ON TABLE public.aol_schedules TO aol_auditor;

GRANT SELECT ON TABLE public.aol_scoped_pauses TO aol_auditor;

GRANT SELECT ON TABLE public.aol_snapshots TO aol_auditor;

GRANT SELECT ON TABLE public.aol_tick_ledger TO aol_auditor;

GRANT SELECT ON TABLE public.aol_workers TO aol_auditor;
