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

-- The functions (aol_worker_beat, aol_worker_leave, aol_worker_presence)
-- live in sql/functions/workers.sql.

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

-- Rights (the migrator runs aol_secure_objects() after the function files, which
-- hands aol_workers and the functions to aol_owner, revokes them from PUBLIC,
-- grants SELECT on the table to aol_auditor and EXECUTE on the functions to
-- aol_service, making them SECURITY DEFINER). So only the worker's role
-- (aol_service) can announce, refresh or leave, and only through
-- aol_worker_beat/aol_worker_leave; nobody but aol_owner writes the table.
-- Readers (aol_auditor, hence operators and admins: `aol workers`,
-- `aol health`) may also call the read-only presence function (the grant is
-- in sql/functions/roles.sql).
