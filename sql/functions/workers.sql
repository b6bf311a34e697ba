-- Worker presence (issue 16): one liveness row per worker process in
-- aol_workers (migration 0016). Telemetry, not a read model: no event per
-- refresh; dead = not refreshed within its TTL on database time (aol_now()).
-- Only aol_service executes beat/leave (aol_secure_objects() makes them
-- SECURITY DEFINER); readers get aol_worker_presence() (roles.sql).

-- Announce or refresh. A new process under a reused id (a container's pid 1)
-- starts a new row: p_started_at differs, so started_at_utc is replaced.
CREATE OR REPLACE FUNCTION aol_worker_beat(p_id text, p_host text, p_pid integer, p_state text, p_epoch bigint,
                                p_ttl_seconds double precision, p_started_at timestamptz)
RETURNS timestamptz LANGUAGE plpgsql AS $$
DECLARE
  t timestamptz := aol_now();
BEGIN
  INSERT INTO aol_workers AS w (id, host, pid, state, epoch, ttl_seconds, started_at_utc, seen_at_utc)
  VALUES (p_id, p_host, p_pid, p_state, p_epoch, p_ttl_seconds, coalesce(p_started_at, t), t)
  ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, epoch = EXCLUDED.epoch,
    ttl_seconds = EXCLUDED.ttl_seconds, started_at_utc = EXCLUDED.started_at_utc,
    seen_at_utc = EXCLUDED.seen_at_utc, left_at_utc = NULL;
  DELETE FROM aol_workers WHERE seen_at_utc < t - interval '1 day';
  RETURN t;
END $$;

-- A clean exit: the row stays (as `left`) so the panel shows who went away.
CREATE OR REPLACE FUNCTION aol_worker_leave(p_id text) RETURNS void LANGUAGE sql AS $$
  UPDATE aol_workers SET state = 'left', epoch = NULL, seen_at_utc = aol_now(), left_at_utc = aol_now()
   WHERE id = p_id
$$;

-- Every row with its status as of now (database time): its own state while
-- it refreshes within its TTL, `dead` once it has not, `left` after a clean
-- exit. Newest first.
CREATE OR REPLACE FUNCTION aol_worker_presence()
RETURNS TABLE (id text, host text, pid integer, status text, epoch bigint, ttl_seconds double precision,
               started_at_utc timestamptz, seen_at_utc timestamptz, left_at_utc timestamptz,
               seen_age_seconds double precision, now timestamptz)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  -- PL/pgSQL: planned once per session (GET /health/aol calls it on every request)
  RETURN QUERY
  SELECT w.id, w.host, w.pid,
         CASE WHEN w.state = 'left' THEN 'left'
              WHEN w.seen_at_utc + make_interval(secs => w.ttl_seconds) < n.t THEN 'dead'
              ELSE w.state END,
         w.epoch, w.ttl_seconds, w.started_at_utc, w.seen_at_utc, w.left_at_utc,
         greatest(0, extract(epoch FROM n.t - w.seen_at_utc)::double precision), n.t
    FROM aol_workers w, (SELECT aol_now() AS t) n
   ORDER BY w.started_at_utc DESC, w.id;
END $$;
