-- Area: actions: the `action:<id>` streams projected into aol_actions,
-- aol_execution_logs and the per-status counters aol_queue_counts (health
-- reads these instead of COUNT(*)); the runbook's cancel; the worker's claim,
-- outcomes and orphan recovery, each behind the fence (lease.sql), so a worker
-- that lost its lease — paused by GC, SIGSTOP, a network cut — commits nothing
-- but the FencedWriteRejected record of its attempt.

-- Only the counters start again from zero. aol_execution_logs and aol_actions
-- are not emptied: aol_rebuild() reconciles them row by row instead
-- (upserts that leave a row that is already right alone, and the rows the
-- log does not make deleted), so readers see the old rows
-- until the rebuild commits and a rebuild of a correct log rewrites none.
CREATE OR REPLACE FUNCTION aol_reset_action() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM aol_queue_counts;
  INSERT INTO aol_queue_counts
    SELECT s, 0 FROM unnest(ARRAY['PENDING', 'RUNNING', 'RETRY', 'SUCCESS', 'FAILED', 'DLQ', 'UNKNOWN', 'CANCELLED']) s;
END $$;

-- The status an action event leaves its action in (NULL: not an action event).
CREATE OR REPLACE FUNCTION aol_action_status(p_type text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
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

-- A receiver's answer goes to the execution log, not to last_error.
--
-- last_error (aol_actions, shown to every viewer and in every list) holds the
-- status and a short reason ("HTTP 503 Service Unavailable"); what the
-- receiver said travels in the failure event's optional `detail` (capped at
-- 500 characters, resolved secrets scrubbed by the worker) and is appended to
-- that event's execution-log line for operators. Events without `detail` get
-- exactly the line they got before, so a rebuild of an older log is unchanged.
CREATE OR REPLACE FUNCTION aol_action_message(p_type text, d jsonb) RETURNS text LANGUAGE sql STABLE AS $$
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

CREATE OR REPLACE FUNCTION aol_action_level(p_type text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_type IN ('ActionFailed', 'ActionDeadLettered', 'ActionOutcomeUnknown') THEN 'ERROR'
              WHEN p_type = 'ActionRetryScheduled' THEN 'WARN' ELSE 'INFO' END
$$;

-- A batch travels as parallel arrays (seq, stream, type, data, occurred_at …),
-- never as an aol_events[]: PL/pgSQL spends ~45 µs per element assigning an
-- array of composites (measured: 450 ms for 10,000 events, 7 ms as jsonb[]).

-- Project a batch of action events (in seq order; other streams are ignored).
-- Generic plans: re-planning this statement for every single-event append
-- cost more than running it (0.55 → 0.36 ms per append, measured).
--
-- p_rebuild (aol_rebuild only): the batch holds every event of each action in
-- it, so the fold alone gives each action's row as of the whole log — the row
-- in the table is never read. It is upserted, and left as it is where it is
-- already right (no row version, no index entries: a rebuild of a correct log
-- writes no aol_actions row). Live, a row is never there yet at its
-- ActionEnqueued (refused below), so the upsert is an INSERT. The execution
-- log is not written in a rebuild: aol_rebuild reconciles it (step 3).
--
-- An action's events before its ActionEnqueued change no row — one at a time
-- they find none — also when they arrive in the same batch as it (the
-- `kept` filter), so the result is the same however a log is cut into
-- batches. A second ActionEnqueued of an action is refused (unique_violation,
-- as the INSERT of a row that is there always was), in a batch or across.
DROP FUNCTION IF EXISTS aol_apply_actions(bigint[], text[], text[], jsonb[], timestamptz[]);
CREATE OR REPLACE FUNCTION aol_apply_actions(p_seq bigint[], p_stream text[], p_type text[], p_data jsonb[],
  p_at timestamptz[], p_rebuild boolean DEFAULT false)
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

-- Runbook: UPDATE aol_actions SET status = 'CANCELLED' WHERE status = 'DLQ';
-- becomes one ActionCancelled per row (via sql). Other direct changes would
-- make the table disagree with the log, so they are refused.
CREATE OR REPLACE FUNCTION aol_actions_runbook() RETURNS trigger LANGUAGE plpgsql AS $$
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

DROP TRIGGER IF EXISTS aol_actions_lock_first ON aol_actions;
CREATE TRIGGER aol_actions_lock_first BEFORE INSERT OR UPDATE OR DELETE ON aol_actions
  FOR EACH STATEMENT WHEN (current_user <> 'aol_owner'::name) EXECUTE FUNCTION aol_take_append_lock();

DROP TRIGGER IF EXISTS aol_actions_runbook ON aol_actions;
CREATE TRIGGER aol_actions_runbook AFTER INSERT OR UPDATE OR DELETE ON aol_actions
  FOR EACH ROW WHEN (current_user <> 'aol_owner'::name) EXECUTE FUNCTION aol_actions_runbook();

DROP TRIGGER IF EXISTS aol_actions_no_truncate ON aol_actions;
CREATE TRIGGER aol_actions_no_truncate BEFORE TRUNCATE ON aol_actions
  FOR EACH STATEMENT WHEN (current_user <> 'aol_owner'::name) EXECUTE FUNCTION aol_read_model_guard();

-- The guard of a read model that grows by a row per event checks once per
-- statement instead of once per row (a rebuild writes a million log lines;
-- the per-row WHEN cost ~10 % of it), and refuses TRUNCATE too.
DROP TRIGGER IF EXISTS aol_execution_logs_guard ON aol_execution_logs;
CREATE TRIGGER aol_execution_logs_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON aol_execution_logs
  FOR EACH STATEMENT WHEN (current_user <> 'aol_owner'::name) EXECUTE FUNCTION aol_read_model_guard();

DROP TRIGGER IF EXISTS aol_queue_counts_guard ON aol_queue_counts;
CREATE TRIGGER aol_queue_counts_guard AFTER INSERT OR UPDATE OR DELETE ON aol_queue_counts
  FOR EACH ROW WHEN (current_user <> 'aol_owner'::name) EXECUTE FUNCTION aol_read_model_guard();

DROP TRIGGER IF EXISTS aol_queue_counts_no_truncate ON aol_queue_counts;
CREATE TRIGGER aol_queue_counts_no_truncate BEFORE TRUNCATE ON aol_queue_counts
  FOR EACH STATEMENT WHEN (current_user <> 'aol_owner'::name) EXECUTE FUNCTION aol_read_model_guard();

-- The worker writes its batches through one statement, aol_record_and_claim
-- (the tick's, src/worker/tick.ts): the previous batch's outcomes and the
-- next claim, behind one fence, in one append. Its two steps each keep their
-- rule in one place: aol_claim_events() decides what a claim starts,
-- aol_outcome_events() which outcomes stand and each item's answer.
--
-- What a claim of up to p_limit due actions, oldest first, would start (ids
-- NULL: nothing). Called behind the fence, under the append lock. The claim
-- reads the flags itself (found by the chaos suite: a pause committed between
-- the worker's last NOTIFY and its next claim let one more action start):
-- paused or killed → nothing is claimed; the attempt's proof mode is the
-- worker's AOL_PROOF_MODE OR the flag as of the claim. So in log order no
-- ActionStarted ever follows a pause/kill, and none is in real mode while
-- proof mode is on. It first ends every scoped pause whose deadline has
-- passed (aol_expire_scoped_pauses, control.sql) and skips the action types
-- still paused.
CREATE OR REPLACE FUNCTION aol_claim_events(p_owner text, p_epoch bigint, p_limit integer, p_env_proof boolean,
  OUT ids bigint[], OUT streams text[], OUT types text[], OUT datas jsonb[], OUT proof boolean,
  OUT action_types text[], OUT payloads jsonb[], OUT keys text[], OUT attempts integer[])
LANGUAGE plpgsql AS $$
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

-- Which outcomes of a batch stand: those of actions still RUNNING under this
-- epoch, the first one per action (ids … datas: the events to append, NULL
-- when none). Per item, in order (item_ids, results): 'ok' (recorded) or
-- 'stale' (the action is no longer RUNNING under this epoch: a new holder
-- already recovered it; also a second outcome for the same action in one
-- batch). p_items is parsed once, here. Called behind the fence: the append
-- lock is held from the fence on, so the RUNNING check stands until commit.
-- For ActionRetryScheduled the caller passes retry_in_seconds; retry_at is
-- computed with database time. (Dropped first: item_ids and results are new
-- OUT columns, which CREATE OR REPLACE cannot add.)
DROP FUNCTION IF EXISTS aol_outcome_events(bigint, jsonb);
CREATE OR REPLACE FUNCTION aol_outcome_events(p_epoch bigint, p_items jsonb,
  OUT ids bigint[], OUT streams text[], OUT types text[], OUT datas jsonb[], OUT item_ids bigint[], OUT results text[])
LANGUAGE plpgsql AS $$
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

-- The tick's one statement per batch (src/worker/tick.ts): record the
-- previous batch's outcomes (p_items, may be empty: a claim alone) AND claim
-- the next p_limit (0: record only), behind one fence, in one append —
-- outcomes first, then the ActionStarted events — so one projection and one
-- commit. The claim still reads pause, kill, scoped pauses and proof mode in
-- this statement, under the append lock (aol_claim_events), so a pause
-- committed between two actions stops the next claim even at batch 1. The
-- claim picks PENDING/RETRY actions as they were before the outcomes: an
-- action being recorded is RUNNING, so it cannot be claimed again in the same
-- statement.
-- Rows: kind 'outcome' (id, result: 'ok' or 'stale' as in aol_outcome_events,
-- or 'fenced') per item, in order; kind 'claimed' per claimed action, in
-- claim order; one row of kind 'fenced' when the fence refused. Then nothing
-- was written but the FencedWriteRejected records: the batch's ('outcomes',
-- or 'claim' without items), then one per refused outcome naming its action
-- and event type. The append lock is held from the first fence on, so the
-- lease cannot come back meanwhile: every one of these fences refuses as the
-- first did.
CREATE OR REPLACE FUNCTION aol_record_and_claim(p_owner text, p_epoch bigint, p_items jsonb, p_limit integer,
  p_env_proof boolean)
RETURNS TABLE (kind text, id bigint, result text, action_type text, payload jsonb, idempotency_key text,
  attempt integer, proof_mode boolean)
LANGUAGE plpgsql AS $$
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

-- A new lease holder's first duty: actions left RUNNING by a worker that died
-- or lost its lease are never silently run again. An idempotent one (its
-- receiver deduplicates, e.g. the webhook's Idempotency-Key) is retried now,
-- or dead-lettered if it has used all its attempts; any other becomes UNKNOWN
-- for an operator to retry or cancel.
CREATE OR REPLACE FUNCTION aol_recover_orphans(p_owner text, p_epoch bigint, p_idempotent text[], p_max_attempts integer)
RETURNS TABLE (id bigint, status text) LANGUAGE plpgsql AS $$
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

-- Retired: dropped where a database migrated before still has them.
-- aol_action_outcome(): one outcome at a time, replaced by aol_action_outcomes()
-- (issue 14). aol_claim() and aol_action_outcomes(): the claim alone and the
-- outcomes alone, which the worker no longer calls since aol_record_and_claim
-- does both (a claim alone is it without items, outcomes alone with limit 0);
-- aol_outcome_results() and aol_reject_outcomes(): their shared pieces, now
-- in aol_outcome_events() and aol_record_and_claim().
DROP FUNCTION IF EXISTS aol_action_outcome(text, bigint, bigint, text, jsonb);
DROP FUNCTION IF EXISTS aol_claim(text, bigint, integer, boolean);
DROP FUNCTION IF EXISTS aol_action_outcomes(text, bigint, jsonb);
DROP FUNCTION IF EXISTS aol_outcome_results(jsonb, bigint[]);
DROP FUNCTION IF EXISTS aol_reject_outcomes(text, bigint, jsonb);
