-- Control flags: the `control` stream projected into aol_control_flags (the
-- table the runbook's psql commands know) and aol_control_ack (the last
-- ControlAcknowledged a worker appended). Projection, runbook trigger and
-- guards: sql/functions/control.sql.

CREATE TABLE aol_control_flags (
  id             integer     PRIMARY KEY CHECK (id = 1),
  paused         boolean     NOT NULL,
  killed         boolean     NOT NULL,
  proof_mode     boolean     NOT NULL,
  updated_at_utc timestamptz,
  version        integer     NOT NULL
);

CREATE TABLE aol_control_ack (
  id                  integer     PRIMARY KEY CHECK (id = 1),
  control_version     integer     NOT NULL,
  worker              text,
  epoch               bigint,
  delay_ms            double precision,
  acknowledged_at_utc timestamptz
);

-- The read models' empty state (as aol_reset_control() writes it).
INSERT INTO aol_control_flags VALUES (1, false, false, false, NULL, 0);
INSERT INTO aol_control_ack VALUES (1, 0, NULL, NULL, NULL, NULL);

-- The safe default, as the first event of every log: proof mode on. Written
-- without functions (on a fresh database none exists yet: they are applied
-- after the migrations), exactly as the append writes it: seq 1, the first
-- hash of the chain over aol_event_content()'s text, and its projection.
WITH e AS (
  SELECT clock_timestamp() AS at, repeat('0', 64) AS prev,
         jsonb_build_object('actor', 'aol-migrate', 'via', 'sql', 'reason', 'initial safe default: proof mode on') AS meta
)
INSERT INTO aol_events
SELECT 1, 'control', 1, 'ProofModeEnabled', '{}'::jsonb, e.meta, e.at, e.prev,
       encode(sha256(convert_to(e.prev || '1|control|1|ProofModeEnabled|{}|' || e.meta::text || '|'
         || to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), 'UTF8')), 'hex')
  FROM e;
UPDATE aol_control_flags SET proof_mode = true, version = 1,
  updated_at_utc = (SELECT occurred_at FROM aol_events WHERE seq = 1);
