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
