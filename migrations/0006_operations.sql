-- Operations: the four-eyes proof-off requests read model, and the health
-- clock. Projection and guards: sql/functions/control.sql; aol_now() and the
-- clock's runbook trigger: sql/functions/health.sql.

-- Production proof-off requests, projected from the control stream.
CREATE TABLE aol_proof_requests (
  request_id     text        PRIMARY KEY,
  requested_by   text        NOT NULL,
  reason         text,
  requested_at   timestamptz NOT NULL,
  expires_at     timestamptz NOT NULL,
  status         text        NOT NULL CHECK (status IN ('PENDING', 'APPROVED', 'EXPIRED')),
  decided_by     text,
  decided_at     timestamptz
);
CREATE INDEX aol_proof_requests_pending ON aol_proof_requests (requested_at DESC) WHERE status = 'PENDING';

-- The clock health judges ages by: database time, plus an offset operators
-- can set for a drill ("what would health say in 10 minutes?") and tests use
-- to advance time without sleeping. Zero unless someone sets it.
CREATE TABLE aol_clock (
  id             integer          PRIMARY KEY CHECK (id = 1),
  offset_seconds double precision NOT NULL DEFAULT 0
);
INSERT INTO aol_clock VALUES (1, 0);
