-- The action queue: `action:<id>` streams projected into aol_actions,
-- aol_execution_logs and per-status counters; proof artifacts.

CREATE SEQUENCE aol_action_id_seq;

CREATE TABLE aol_actions (
  id              bigint      PRIMARY KEY,
  idempotency_key text        NOT NULL UNIQUE,
  action_type     text        NOT NULL,
  payload         jsonb       NOT NULL,
  status          text        NOT NULL CHECK (status IN
                    ('PENDING', 'RUNNING', 'RETRY', 'SUCCESS', 'FAILED', 'DLQ', 'UNKNOWN', 'CANCELLED')),
  not_before_utc  timestamptz NOT NULL,
  attempts        integer     NOT NULL,
  last_error      text,
  created_at_utc  timestamptz NOT NULL,
  updated_at_utc  timestamptz NOT NULL,
  -- who ran the current/last attempt: lets a new lease holder find actions left
  -- RUNNING under a dead epoch
  worker          text,
  epoch           bigint
);
-- the claim: due actions, oldest first
CREATE INDEX aol_actions_due ON aol_actions (not_before_utc, id) WHERE status IN ('PENDING', 'RETRY');
CREATE INDEX aol_actions_status ON aol_actions (status, id);

CREATE TABLE aol_execution_logs (
  seq             bigint      PRIMARY KEY, -- the event that wrote the line
  action_id       bigint      NOT NULL,
  ts_utc          timestamptz NOT NULL,
  level           text        NOT NULL,
  message         text        NOT NULL,
  artifact_ref    text,
  artifact_sha256 text
);
CREATE INDEX aol_execution_logs_action ON aol_execution_logs (action_id, seq);

-- Health reads these instead of COUNT(*) over aol_actions.
CREATE TABLE aol_queue_counts (
  status text   PRIMARY KEY,
  n      bigint NOT NULL
);

-- Proof artifacts: the exact request that would have been sent. Content is
-- addressed by its SHA-256 (the event and the execution log carry it); not a
-- read model, so a rebuild leaves it alone.
CREATE TABLE aol_artifacts (
  ref          text        PRIMARY KEY,
  action_id    bigint      NOT NULL,
  content_type text        NOT NULL,
  body         bytea       NOT NULL,
  sha256       text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX aol_artifacts_action ON aol_artifacts (action_id);

CREATE OR REPLACE FUNCTION aol_reset_action() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM aol_actions;
  DELETE FROM aol_execution_logs;
  DELETE FROM aol_queue_counts;
  INSERT INTO aol_queue_counts
    SELECT s, 0 FROM unnest(ARRAY['PENDING', 'RUNNING', 'RETRY', 'SUCCESS', 'FAILED', 'DLQ', 'UNKNOWN', 'CANCELLED']) s;
END $$;

CREATE FUNCTION aol_action_log(e aol_events, p_level text, p_message text) RETURNS void LANGUAGE sql AS $$
  INSERT INTO aol_execution_logs VALUES (e.seq, substr(e.stream, 8)::bigint, e.occurred_at, p_level, p_message,
    e.data->>'artifact_ref', e.data->>'artifact_sha256')
$$;

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
    UPDATE aol_queue_counts SET n = n + 1 WHERE status = 'PENDING';
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
  UPDATE aol_queue_counts SET n = n - 1 WHERE status = v_old;
  UPDATE aol_queue_counts SET n = n + 1 WHERE status = v_new;
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

SELECT set_config('aol.projecting', 'on', true);
SELECT aol_reset_action();
SELECT set_config('aol.projecting', 'off', true);

-- Runbook: UPDATE aol_actions SET status = 'CANCELLED' WHERE status = 'DLQ';
-- becomes one ActionCancelled per row (via sql). Other direct changes would
-- make the table disagree with the log, so they are refused.
CREATE FUNCTION aol_actions_runbook() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER aol_actions_lock_first BEFORE INSERT OR UPDATE OR DELETE ON aol_actions
  FOR EACH STATEMENT WHEN (NOT aol_projecting()) EXECUTE FUNCTION aol_take_append_lock();
CREATE TRIGGER aol_actions_runbook AFTER INSERT OR UPDATE OR DELETE ON aol_actions
  FOR EACH ROW WHEN (NOT aol_projecting()) EXECUTE FUNCTION aol_actions_runbook();
CREATE TRIGGER aol_execution_logs_guard AFTER INSERT OR UPDATE OR DELETE ON aol_execution_logs
  FOR EACH ROW WHEN (NOT aol_projecting()) EXECUTE FUNCTION aol_read_model_guard();
CREATE TRIGGER aol_queue_counts_guard AFTER INSERT OR UPDATE OR DELETE ON aol_queue_counts
  FOR EACH ROW WHEN (NOT aol_projecting()) EXECUTE FUNCTION aol_read_model_guard();
