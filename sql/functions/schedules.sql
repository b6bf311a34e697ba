-- The `schedule` stream (issue 16; the table is migration 0017): the
-- projection of schedule events into aol_schedules, and its reset for a
-- rebuild. The firing decision is TypeScript (src/schedules/schedule.decider.ts).

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

-- aol_schedules is a read model: written only by the projection.
DROP TRIGGER IF EXISTS aol_schedules_guard ON aol_schedules;
CREATE TRIGGER aol_schedules_guard AFTER INSERT OR UPDATE OR DELETE ON aol_schedules
  FOR EACH ROW WHEN (current_user <> 'aol_owner'::name) EXECUTE FUNCTION aol_read_model_guard();
DROP TRIGGER IF EXISTS aol_schedules_no_truncate ON aol_schedules;
CREATE TRIGGER aol_schedules_no_truncate BEFORE TRUNCATE ON aol_schedules
  FOR EACH STATEMENT WHEN (current_user <> 'aol_owner'::name) EXECUTE FUNCTION aol_read_model_guard();
