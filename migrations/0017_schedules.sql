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
  CHECK (stream ~ '^(control|lease|tick|log|schedule|action:[0-9]+)$');

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
CREATE TRIGGER aol_schedules_guard AFTER INSERT OR UPDATE OR DELETE ON aol_schedules
  FOR EACH ROW WHEN (NOT aol_projecting()) EXECUTE FUNCTION aol_read_model_guard();
CREATE TRIGGER aol_schedules_no_truncate BEFORE TRUNCATE ON aol_schedules
  FOR EACH STATEMENT WHEN (NOT aol_projecting()) EXECUTE FUNCTION aol_read_model_guard();

-- BEGIN FUNCTIONS schedules
CREATE OR REPLACE FUNCTION aol_reset_schedule() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM aol_schedules;
END $$;

CREATE OR REPLACE FUNCTION aol_apply_schedule(e aol_events) RETURNS void LANGUAGE plpgsql AS $$
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
-- END FUNCTIONS schedules

-- BEGIN FUNCTIONS projection
-- aol_apply_events (0009) and aol_rebuild (0009), restated whole: the
-- `schedule` stream folds one by one like control and lease (few, small), and
-- a rebuild resets aol_schedules with the other read models.
CREATE OR REPLACE FUNCTION aol_apply_events(
  p_seq bigint[], p_stream text[], p_version integer[], p_type text[], p_data jsonb[], p_metadata jsonb[],
  p_at timestamptz[]
) RETURNS void LANGUAGE plpgsql AS $$
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

CREATE OR REPLACE FUNCTION aol_rebuild(p_chunk integer DEFAULT 10000) RETURNS bigint LANGUAGE plpgsql AS $$
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
BEGIN
  PERFORM pg_advisory_xact_lock(7310001);
  PERFORM set_config('aol.projecting', 'on', true);
  PERFORM aol_reset_control();
  PERFORM aol_reset_lease();
  PERFORM aol_reset_tick();
  PERFORM aol_reset_action();
  PERFORM aol_reset_schedule();
  v_head := coalesce((SELECT max(seq) FROM aol_events), 0);
  WHILE v_from <= v_head LOOP -- seq is gapless
    SELECT array_agg(e.seq ORDER BY e.seq), array_agg(e.stream ORDER BY e.seq), array_agg(e.stream_version ORDER BY e.seq),
           array_agg(e.type ORDER BY e.seq), array_agg(e.data ORDER BY e.seq), array_agg(e.metadata ORDER BY e.seq),
           array_agg(e.occurred_at ORDER BY e.seq)
      INTO v_seq, v_stream, v_version, v_type, v_data, v_metadata, v_at
      FROM aol_events e WHERE e.seq >= v_from AND e.seq < v_from + p_chunk;
    PERFORM aol_apply_events(v_seq, v_stream, v_version, v_type, v_data, v_metadata, v_at);
    v_from := v_from + p_chunk;
  END LOOP;
  PERFORM set_config('aol.projecting', 'off', true);
  RETURN v_head;
END $$;
-- END FUNCTIONS projection

-- BEGIN FUNCTIONS roles
-- aol_operator_event_types (0010), restated whole: operators (and so the CLI
-- run with an operator's login role) may create, pause, resume and delete
-- schedules; firings (ScheduleFired, ScheduleFiresMissed) are the service's.
CREATE OR REPLACE FUNCTION aol_operator_event_types() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
  SELECT ARRAY['ControlPaused', 'ControlResumed', 'ControlKilled', 'ControlRevived', 'ProofModeEnabled',
               'ProofModeDisabled', 'ProofModeDisableRequested', 'ProofModeDisableExpired', 'LeaseForceReleased',
               'ActionEnqueued', 'ActionCancelled', 'ActionRequeued', 'ScopedPauseStarted', 'ScopedPauseEnded',
               'ScheduleCreated', 'SchedulePaused', 'ScheduleResumed', 'ScheduleDeleted']
$$;
-- END FUNCTIONS roles
