-- Worker presence (issue 16). Every worker process — active, standby,
-- stopping — keeps one liveness row here and refreshes it every TTL/3. This is
-- telemetry, not a read model: no event per refresh, and joins, leaves and
-- deaths are derived from the row (docs/events.md says why). A worker is dead
-- when it has not refreshed within its TTL, judged on database time
-- (aol_now(): clock_timestamp() plus the drill offset of aol_clock), never on
-- the worker's or the reader's clock. Rows not refreshed for a day are pruned.
CREATE TABLE aol_workers (
  id             text             PRIMARY KEY,
  host           text             NOT NULL,
  pid            integer          NOT NULL,
  state          text             NOT NULL CHECK (state IN ('standby', 'active', 'stopping', 'left')),
  epoch          bigint,
  ttl_seconds    double precision NOT NULL CHECK (ttl_seconds > 0),
  started_at_utc timestamptz      NOT NULL,
  seen_at_utc    timestamptz      NOT NULL,
  left_at_utc    timestamptz
);
CREATE INDEX aol_workers_seen_at ON aol_workers (seen_at_utc);

-- BEGIN FUNCTIONS workers
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
LANGUAGE sql STABLE AS $$
  SELECT w.id, w.host, w.pid,
         CASE WHEN w.state = 'left' THEN 'left'
              WHEN w.seen_at_utc + make_interval(secs => w.ttl_seconds) < n.t THEN 'dead'
              ELSE w.state END,
         w.epoch, w.ttl_seconds, w.started_at_utc, w.seen_at_utc, w.left_at_utc,
         greatest(0, extract(epoch FROM n.t - w.seen_at_utc)::double precision), n.t
    FROM aol_workers w, (SELECT aol_now() AS t) n
   ORDER BY w.started_at_utc DESC, w.id
$$;
-- END FUNCTIONS workers

-- Built-in alert notifier: the API replicas elect one sender with the session
-- advisory lock 7310014 (held on the sender's own connection, so a dead
-- replica frees it). The state of each alert is the last AlertFired /
-- AlertResolved of the `alert` stream (no read model); this index finds it.
CREATE INDEX aol_events_alert_name ON aol_events ((data->>'alert'), seq) WHERE stream = 'alert';

-- The `alert` stream joins the allowed streams: every stream 0011 accepts
-- (control, lease, tick, log, action:N) and `alert`. NOT VALID: every existing
-- row already passed the stricter check, so there is nothing to re-scan.
ALTER TABLE aol_events DROP CONSTRAINT aol_events_stream_check;
ALTER TABLE aol_events ADD CONSTRAINT aol_events_stream_check
  CHECK (stream ~ '^(control|lease|tick|log|alert|action:[0-9]+)$') NOT VALID;

-- Rights (the migrator runs aol_secure_objects() after this migration, which
-- hands aol_workers and the functions to aol_owner, revokes them from PUBLIC,
-- grants SELECT on the table to aol_auditor and EXECUTE on the functions to
-- aol_service, making them SECURITY DEFINER). So only the worker's role
-- (aol_service) can announce, refresh or leave, and only through
-- aol_worker_beat/aol_worker_leave; nobody but aol_owner writes the table.
-- Readers (aol_auditor, hence operators and admins: `aol workers`,
-- `aol health`) may also call the read-only presence function.
SELECT aol_secure_objects();
GRANT EXECUTE ON FUNCTION aol_worker_presence() TO aol_auditor;
