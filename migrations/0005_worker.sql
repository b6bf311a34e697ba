-- The worker's writes. Each runs in one transaction behind the fence
-- (aol_fence: the caller's epoch must hold the live lease), so a worker that
-- lost its lease — paused by GC, SIGSTOP, a network cut — commits nothing but
-- the FencedWriteRejected record of its attempt.

-- Claim up to p_limit due actions, oldest first, and mark them started. One row
-- with fenced = true when the fence refused.
CREATE FUNCTION aol_claim(p_owner text, p_epoch bigint, p_limit integer, p_proof boolean)
RETURNS TABLE (fenced boolean, id bigint, action_type text, payload jsonb, idempotency_key text, attempt integer)
LANGUAGE plpgsql AS $$
DECLARE
  r aol_actions;
BEGIN
  IF NOT aol_fence(p_owner, p_epoch, 'claim', NULL) THEN
    RETURN QUERY SELECT true, NULL::bigint, NULL::text, NULL::jsonb, NULL::text, NULL::integer;
    RETURN;
  END IF;
  FOR r IN
    SELECT * FROM aol_actions a
     WHERE a.status IN ('PENDING', 'RETRY') AND a.not_before_utc <= clock_timestamp()
     ORDER BY a.not_before_utc, a.id
     LIMIT p_limit
     FOR UPDATE SKIP LOCKED
  LOOP
    PERFORM aol_append('action:' || r.id, NULL, 'ActionStarted', jsonb_build_object(
      'attempt', r.attempts + 1, 'worker', p_owner, 'epoch', p_epoch, 'proof_mode', p_proof),
      aol_worker_metadata(p_owner));
    RETURN QUERY SELECT false, r.id, r.action_type, r.payload, r.idempotency_key, r.attempts + 1;
  END LOOP;
END $$;

-- Record an attempt's outcome: 'ok', 'fenced' (lease lost; rejection
-- recorded) or 'stale' (the action is no longer RUNNING under this epoch:
-- a new holder already recovered it). For ActionRetryScheduled the caller
-- passes retry_in_seconds; retry_at is computed with database time.
CREATE FUNCTION aol_action_outcome(p_owner text, p_epoch bigint, p_id bigint, p_type text, p_data jsonb)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  d jsonb := p_data;
BEGIN
  IF NOT aol_fence(p_owner, p_epoch, p_type, p_id) THEN
    RETURN 'fenced';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM aol_actions WHERE id = p_id AND status = 'RUNNING' AND epoch = p_epoch) THEN
    RETURN 'stale';
  END IF;
  IF p_type = 'ActionRetryScheduled' THEN
    d := (d - 'retry_in_seconds') || jsonb_build_object('retry_at',
      aol_iso(clock_timestamp() + make_interval(secs => (d->>'retry_in_seconds')::double precision)));
  END IF;
  PERFORM aol_append('action:' || p_id, NULL, p_type, d, aol_worker_metadata(p_owner));
  RETURN 'ok';
END $$;

-- A new lease holder's first duty: actions left RUNNING by a worker that died
-- or lost its lease are never silently run again. An idempotent one (its
-- receiver deduplicates, e.g. the webhook's Idempotency-Key) is retried now,
-- or dead-lettered if it has used all its attempts; any other becomes UNKNOWN
-- for an operator to retry or cancel.
CREATE FUNCTION aol_recover_orphans(p_owner text, p_epoch bigint, p_idempotent text[], p_max_attempts integer)
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

-- The worker has applied control version p_version: ControlAcknowledged with
-- the delay from the change's commit to now, both in database time. False
-- when fenced (a standby does not acknowledge).
CREATE FUNCTION aol_ack_control(p_owner text, p_epoch bigint, p_version integer)
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

-- Record a tick, fenced. False when fenced.
CREATE FUNCTION aol_record_tick(p_owner text, p_epoch bigint, p_data jsonb)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF NOT aol_fence(p_owner, p_epoch, 'TickRecorded', NULL) THEN
    RETURN false;
  END IF;
  PERFORM aol_append('tick', NULL, 'TickRecorded', p_data || jsonb_build_object(
    'worker', p_owner, 'epoch', p_epoch, 'finished_at', aol_iso(clock_timestamp())), aol_worker_metadata(p_owner));
  RETURN true;
END $$;
