-- Area: health: the health clock (aol_clock, aol_now()) and the inputs of
-- GET /health/aol.

-- The clock health judges ages by: database time, plus an offset operators
-- can set for a drill ("what would health say in 10 minutes?") and tests use
-- to advance time without sleeping. Zero unless someone sets it.
-- The test clock does not exist in production: the offset is ignored there
-- (and refused, below), so no one can move the approval window or health.
-- PL/pgSQL, so its statement is planned once per session: a LANGUAGE sql body
-- that is not inlined (SECURITY DEFINER, below) is planned in every statement
-- that calls it (~60 µs of GET /health/aol's ~0.4 ms, measured with pgbench).
CREATE OR REPLACE FUNCTION aol_now() RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN clock_timestamp() + CASE WHEN aol_is_production() THEN interval '0'
    ELSE make_interval(secs => (SELECT offset_seconds FROM aol_clock WHERE id = 1)) END;
END $$;

-- The test clock: UPDATE aol_clock SET offset_seconds = … becomes
-- TestClockSet (via sql, the session user), refused in production.
CREATE OR REPLACE FUNCTION aol_clock_runbook() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'UPDATE' OR NEW.id <> OLD.id THEN
    RAISE EXCEPTION 'aol_clock has exactly one row (id = 1); only UPDATE aol_clock SET offset_seconds = … is allowed'
      USING ERRCODE = 'AOL01';
  END IF;
  IF aol_is_production() THEN
    RAISE EXCEPTION 'the test clock is disabled in production (aol_deployment.production)' USING ERRCODE = 'AOL03';
  END IF;
  IF NEW.offset_seconds IS DISTINCT FROM OLD.offset_seconds THEN
    PERFORM aol_append_raw(ARRAY['control'], NULL, ARRAY['TestClockSet'],
      ARRAY[jsonb_build_object('offset_seconds', NEW.offset_seconds, 'previous_offset_seconds', OLD.offset_seconds)],
      ARRAY[aol_sql_metadata()]);
  END IF;
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS aol_clock_lock_first ON aol_clock;
CREATE TRIGGER aol_clock_lock_first BEFORE INSERT OR UPDATE OR DELETE ON aol_clock
  FOR EACH STATEMENT WHEN (current_user <> 'aol_owner'::name) EXECUTE FUNCTION aol_take_append_lock();

DROP TRIGGER IF EXISTS aol_clock_runbook ON aol_clock;
CREATE TRIGGER aol_clock_runbook AFTER INSERT OR UPDATE OR DELETE ON aol_clock
  FOR EACH ROW WHEN (current_user <> 'aol_owner'::name) EXECUTE FUNCTION aol_clock_runbook();

DROP TRIGGER IF EXISTS aol_clock_no_truncate ON aol_clock;
CREATE TRIGGER aol_clock_no_truncate BEFORE TRUNCATE ON aol_clock
  FOR EACH STATEMENT WHEN (current_user <> 'aol_owner'::name) EXECUTE FUNCTION aol_read_model_guard();

-- Everything GET /health/aol needs, in one statement of index lookups: the
-- last tick (by seq), the lease (with its liveness columns), the flags and acknowledgement, the queue
-- counters kept by the projection, the head of the log, and beside them the
-- presence rows (aol_worker_presence(), at most 200), the active scoped pauses
-- and the earliest schedule fires. No COUNT(*). One round trip per request;
-- PL/pgSQL so that the statement's plan is cached per session (a LANGUAGE sql
-- body with subqueries is not inlined and was planned on every call: ~0.3 ms,
-- more than running it).
CREATE OR REPLACE FUNCTION aol_health_inputs() RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN jsonb_build_object(
    'now', aol_iso(aol_now()),
    'last_tick', (SELECT to_jsonb(t) FROM (SELECT * FROM aol_tick_ledger ORDER BY seq DESC LIMIT 1) t),
    'lease', (SELECT to_jsonb(l) FROM aol_lease l LIMIT 1),
    'flags', (SELECT to_jsonb(f) FROM aol_control_flags f WHERE id = 1),
    'ack', (SELECT to_jsonb(a) FROM aol_control_ack a WHERE id = 1),
    'counts', (SELECT jsonb_object_agg(lower(status), n) FROM aol_queue_counts),
    'last_event_seq', (SELECT coalesce(max(seq), 0) FROM aol_events),
    'workers', (SELECT coalesce(jsonb_agg(to_jsonb(w) ORDER BY w.started_at_utc DESC, w.id), '[]')
                  FROM (SELECT * FROM aol_worker_presence() LIMIT 200) w),
    'scoped_pauses', (SELECT coalesce(jsonb_agg(jsonb_build_object('pause_id', p.pause_id, 'action_types', p.action_types,
                                       'until', aol_iso_ms(p.until_utc), 'reason', p.reason, 'started_by', p.started_by,
                                       'started_at', aol_iso_ms(p.started_at_utc)) ORDER BY p.started_at_utc, p.pause_id), '[]')
                        FROM aol_scoped_pauses p WHERE p.ended_at_utc IS NULL),
    'schedule_fires', (SELECT coalesce(jsonb_agg(jsonb_build_object('schedule_id', s.schedule_id,
                                        'next_fire', aol_iso_ms(s.next_fire_utc)) ORDER BY s.next_fire_utc, s.schedule_id), '[]')
                         FROM (SELECT * FROM aol_schedules WHERE status = 'ACTIVE' AND next_fire_utc IS NOT NULL
                                ORDER BY next_fire_utc, schedule_id LIMIT 10) s)
  );
END $$;
