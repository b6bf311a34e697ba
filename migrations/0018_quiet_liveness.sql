-- Less noise in the log, no loss of history (issue 15). An idle worker used
-- to append a LeaseRenewed every TTL/3 and a TickRecorded every tick: 484
-- events an hour on default settings. Now:
-- * a renewal moves the liveness columns of the lease row (renewed_at_utc,
--   expires_at_utc) through the same compare-and-set that fenced it before,
--   under the append lock, on the database clock, and appends nothing. Every
--   acquisition, release, expiry, force release and fencing rejection is
--   still an event;
-- * an idle tick whose outcome repeats the last recorded tick (same worker,
--   epoch, status and notes, no action attempted) within 55 s of it (health's
--   clock, aol_now()) only refreshes the liveness row aol_tick_liveness; any
--   other tick, and at least one tick a minute, is a TickRecorded event.
-- docs/events.md ("Liveness outside the log") says which and why.

-- The worker's liveness as of its last tick: one row, written only by
-- aol_record_tick (as aol_owner). Not a projection of the log: a rebuild
-- leaves it alone, and the comparisons of rebuilt and live read models leave
-- it (and the lease's two liveness columns) out.
CREATE TABLE aol_tick_liveness (
  id               integer     PRIMARY KEY CHECK (id = 1),
  worker           text        NOT NULL,
  epoch            bigint      NOT NULL,
  seq              bigint      NOT NULL, -- the TickRecorded event the later ticks repeat
  status           text        NOT NULL,
  notes            text        NOT NULL,
  idle             boolean     NOT NULL, -- that event attempted no action
  started_at_utc   timestamptz NOT NULL, -- of the latest tick (event or not)
  finished_at_utc  timestamptz NOT NULL,
  recorded_at      timestamptz NOT NULL, -- aol_now() when seq was appended: the heartbeat's reference
  ticks            bigint      NOT NULL  -- ticks ever recorded by any worker, events or not
);

-- The functions live in sql/functions/: aol_lease_renew (lease.sql),
-- aol_record_tick and this table's guard trigger (ticks.sql), aol_rebuild
-- (events.sql, keeps the lease's liveness columns), aol_health_inputs
-- (health.sql, returns tick_liveness).
