-- Area: health: the health clock (aol_clock, aol_now()) and the inputs of
-- GET /health/aol.

-- The clock health judges ages by: database time, plus an offset operators
-- can set for a drill ("what would health say in 10 minutes?") and tests use
-- to advance time without sleeping. Zero unless someone sets it.
-- The test clock does not exist in production: the offset is ignored there
-- (and refused, below), so no one can move the approval window or health.
-- PL/pgSQL for its cached plan (as aol_is_production(), control.sql).
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
  FOR EACH STATEMENT WHEN (NOT aol_projecting()) EXECUTE FUNCTION aol_take_append_lock();

DROP TRIGGER IF EXISTS aol_clock_runbook ON aol_clock;
CREATE TRIGGER aol_clock_runbook AFTER INSERT OR UPDATE OR DELETE ON aol_clock
  FOR EACH ROW WHEN (NOT aol_projecting()) EXECUTE FUNCTION aol_clock_runbook();

DROP TRIGGER IF EXISTS aol_clock_no_truncate ON aol_clock;
CREATE TRIGGER aol_clock_no_truncate BEFORE TRUNCATE ON aol_clock
  FOR EACH STATEMENT WHEN (NOT aol_projecting()) EXECUTE FUNCTION aol_read_model_guard();

-- Everything GET /health/aol needs, in one statement of index lookups: the
-- last tick (by seq), the lease (with its liveness columns), the flags and acknowledgement, the queue
-- counters kept by the projection, the head of the log. No COUNT(*).
CREATE OR REPLACE FUNCTION aol_health_inputs() RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'now', aol_iso(aol_now()),
    'last_tick', (SELECT to_jsonb(t) FROM (SELECT * FROM aol_tick_ledger ORDER BY seq DESC LIMIT 1) t),
    'lease', (SELECT to_jsonb(l) FROM aol_lease l LIMIT 1),
    'flags', (SELECT to_jsonb(f) FROM aol_control_flags f WHERE id = 1),
    'ack', (SELECT to_jsonb(a) FROM aol_control_ack a WHERE id = 1),
    'counts', (SELECT jsonb_object_agg(lower(status), n) FROM aol_queue_counts),
    'last_event_seq', (SELECT coalesce(max(seq), 0) FROM aol_events)
  )
$$;
