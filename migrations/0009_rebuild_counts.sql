-- Found by the replay benchmark: a rebuild updated the 8 rows of
-- aol_queue_counts twice per action event inside ONE transaction; Postgres
-- keeps every version of a row updated in the same transaction, so each update
-- walked a longer chain and a 1,000,000-event rebuild went quadratic (minutes).
-- Now a rebuild (aol.rebuilding = on) skips the per-event counter updates and
-- recomputes the counters once at the end from aol_actions. Live appends are
-- unchanged: they keep the counters exact event by event.

CREATE FUNCTION aol_count_status(p_old text, p_new text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(current_setting('aol.rebuilding', true), '') = 'on' THEN
    RETURN;
  END IF;
  IF p_old IS NOT NULL THEN
    UPDATE aol_queue_counts SET n = n - 1 WHERE status = p_old;
  END IF;
  UPDATE aol_queue_counts SET n = n + 1 WHERE status = p_new;
END $$;

CREATE OR REPLACE FUNCTION aol_apply_action(e aol_events) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_id bigint := substr(e.stream, 8)::bigint;
  v_old text;
  v_new text;
  d jsonb := e.data || jsonb_build_object('id', substr(e.stream, 8)::bigint);
BEGIN
  IF e.type = 'ActionEnqueued' THEN
    INSERT INTO aol_actions VALUES (v_id, d->>'idempotency_key', d->>'action_type', d->'payload', 'PENDING',
      (d->>'not_before')::timestamptz, 0, NULL, e.occurred_at, e.occurred_at, NULL, NULL);
    PERFORM aol_count_status(NULL, 'PENDING');
    PERFORM aol_action_log(e, 'INFO', format('enqueued %s (key %s)', d->>'action_type', d->>'idempotency_key'));
    RETURN;
  END IF;
  -- Cancel and requeue name the status they left: a runbook UPDATE has
  -- already overwritten it in the row when this runs.
  v_old := coalesce(d->>'previous_status', (SELECT status FROM aol_actions WHERE id = v_id));
  v_new := CASE e.type
    WHEN 'ActionStarted' THEN 'RUNNING'
    WHEN 'ActionSucceeded' THEN 'SUCCESS'
    WHEN 'ActionRetryScheduled' THEN 'RETRY'
    WHEN 'ActionFailed' THEN 'FAILED'
    WHEN 'ActionDeadLettered' THEN 'DLQ'
    WHEN 'ActionOutcomeUnknown' THEN 'UNKNOWN'
    WHEN 'ActionCancelled' THEN 'CANCELLED'
    WHEN 'ActionRequeued' THEN 'PENDING'
  END;
  IF v_new IS NULL THEN
    RAISE EXCEPTION 'unknown action event type %', e.type;
  END IF;
  UPDATE aol_actions SET
    status = v_new,
    updated_at_utc = e.occurred_at,
    attempts = CASE WHEN e.type = 'ActionStarted' THEN (d->>'attempt')::integer
                    WHEN e.type = 'ActionRequeued' THEN 0 ELSE attempts END,
    worker = CASE WHEN e.type = 'ActionStarted' THEN d->>'worker' ELSE worker END,
    epoch = CASE WHEN e.type = 'ActionStarted' THEN (d->>'epoch')::bigint ELSE epoch END,
    last_error = CASE WHEN d ? 'error' THEN d->>'error' ELSE last_error END,
    not_before_utc = CASE WHEN e.type = 'ActionRetryScheduled' THEN (d->>'retry_at')::timestamptz
                          WHEN e.type = 'ActionRequeued' THEN e.occurred_at ELSE not_before_utc END
  WHERE id = v_id;
  PERFORM aol_count_status(v_old, v_new);
  PERFORM aol_action_log(e,
    CASE WHEN e.type IN ('ActionFailed', 'ActionDeadLettered', 'ActionOutcomeUnknown') THEN 'ERROR'
         WHEN e.type = 'ActionRetryScheduled' THEN 'WARN' ELSE 'INFO' END,
    CASE e.type
      WHEN 'ActionStarted' THEN format('attempt %s started by %s (epoch %s, %s)', d->>'attempt', d->>'worker',
        d->>'epoch', CASE WHEN (d->>'proof_mode')::boolean THEN 'proof mode' ELSE 'real mode' END)
      WHEN 'ActionSucceeded' THEN d->>'message'
      WHEN 'ActionRetryScheduled' THEN format('attempt %s failed: %s; retry at %s', d->>'attempt', d->>'error', d->>'retry_at')
      WHEN 'ActionFailed' THEN format('failed permanently: %s', d->>'error')
      WHEN 'ActionDeadLettered' THEN format('attempt %s failed: %s; moved to DLQ', d->>'attempt', d->>'error')
      WHEN 'ActionOutcomeUnknown' THEN format('outcome unknown: %s', d->>'error')
      WHEN 'ActionCancelled' THEN format('cancelled (was %s)', v_old)
      WHEN 'ActionRequeued' THEN format('requeued by an operator (was %s)', v_old)
    END);
END $$;

CREATE OR REPLACE FUNCTION aol_rebuild() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  e aol_events;
  n bigint := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(7310001);
  PERFORM set_config('aol.projecting', 'on', true);
  PERFORM set_config('aol.rebuilding', 'on', true);
  PERFORM aol_reset_control();
  PERFORM aol_reset_lease();
  PERFORM aol_reset_tick();
  PERFORM aol_reset_action();
  FOR e IN SELECT * FROM aol_events ORDER BY seq LOOP
    PERFORM aol_apply(e);
    n := n + 1;
  END LOOP;
  PERFORM set_config('aol.projecting', 'on', true); -- aol_apply() turns it off after each event
  UPDATE aol_queue_counts q SET n = (SELECT count(*) FROM aol_actions a WHERE a.status = q.status);
  PERFORM set_config('aol.rebuilding', 'off', true);
  PERFORM set_config('aol.projecting', 'off', true);
  RETURN n;
END $$;
