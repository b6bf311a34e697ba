-- Recurring schedules (issue 16): a cron expression in an IANA time zone that
-- enqueues an action (type and payload validated like POST /actions) at each
-- fire time, with a missed-fire policy after downtime.
--
-- Every change is an event on the `schedule` stream, projected into
-- aol_schedules. The cron arithmetic is done in Node (cron-parser), so the
-- events carry the times it decided: `handled_through` (every fire time up to
-- it has fired or been recorded as missed) and `next_fire` (the first fire
-- time after it). The projection only copies them; a rebuild needs no cron.
--
-- Fire times are on the database clock (aol_now(), which tests and drills
-- shift through aol_clock). The scheduler (src/schedules/scheduler.ts, in
-- every API process) fires under the append lock after re-reading the
-- schedule, and each firing's action carries the idempotency key
-- `schedule:<id>:<fire time ISO>` (aol_actions.idempotency_key is UNIQUE), so
-- a fire time enqueues exactly once however many schedulers run.

ALTER TABLE aol_events DROP CONSTRAINT aol_events_stream_check;
ALTER TABLE aol_events ADD CONSTRAINT aol_events_stream_check
  CHECK (stream ~ '^(control|lease|tick|log|alert|schedule|action:[0-9]+)$') NOT VALID;

CREATE TABLE aol_schedules (
  schedule_id         text        PRIMARY KEY,
  cron                text        NOT NULL,
  time_zone           text        NOT NULL,
  action_type         text        NOT NULL,
  payload             jsonb       NOT NULL,
  missed_fires        text        NOT NULL CHECK (missed_fires IN ('skip', 'catch_up')),
  catch_up_max        integer,    -- catch_up: at most this many late fire times fire
  status              text        NOT NULL CHECK (status IN ('ACTIVE', 'PAUSED', 'DELETED')),
  handled_through_utc timestamptz NOT NULL, -- fire times up to here have fired or were missed
  next_fire_utc       timestamptz, -- the first fire time after handled_through (NULL: none)
  fired               integer     NOT NULL,
  missed              integer     NOT NULL,
  last_fire_utc       timestamptz,
  last_action_id      bigint,
  reason              text,
  created_by          text        NOT NULL,
  created_at_utc      timestamptz NOT NULL,
  updated_at_utc      timestamptz NOT NULL
);
CREATE INDEX aol_schedules_due ON aol_schedules (next_fire_utc) WHERE status = 'ACTIVE';
-- Its guard triggers (a read model: written only by the projection) are in
-- sql/functions/schedules.sql.

-- The functions live in sql/functions/: aol_apply_schedule and
-- aol_reset_schedule (schedules.sql); the projection dispatcher and
-- aol_rebuild call them, and aol_operator_event_types lets operators append
-- the schedule changes (events.sql).
