-- The action queue: `action:<id>` streams projected into aol_actions,
-- aol_execution_logs and per-status counters; proof artifacts. Projection,
-- runbook cancel and the worker's functions: sql/functions/actions.sql.

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

-- The empty counters (as aol_reset_action() writes them).
INSERT INTO aol_queue_counts
  SELECT s, 0 FROM unnest(ARRAY['PENDING', 'RUNNING', 'RETRY', 'SUCCESS', 'FAILED', 'DLQ', 'UNKNOWN', 'CANCELLED']) s;
