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

-- BEGIN FUNCTIONS lease
-- (aol_lease_renew: lease; aol_record_tick: worker; aol_rebuild: event store;
-- aol_health_inputs: operations; the liveness guard: this table's.)

-- Renew only a live lease of ours; NULL means it is lost (expired, released by
-- force, or taken over) and the caller must stop working at once. The
-- compare-and-set on the lease row is the fence; no event (migration 0018).
CREATE OR REPLACE FUNCTION aol_lease_renew(p_owner text, p_epoch bigint, p_ttl_seconds double precision)
RETURNS timestamptz LANGUAGE plpgsql AS $$
DECLARE
  t timestamptz;
  v_exp timestamptz;
BEGIN
  PERFORM pg_advisory_xact_lock(7310001);
  t := clock_timestamp();
  v_exp := t + make_interval(secs => p_ttl_seconds);
  UPDATE aol_lease SET renewed_at_utc = t, expires_at_utc = v_exp
   WHERE owner = p_owner AND epoch = p_epoch AND expires_at_utc > t;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  RETURN v_exp;
END $$;

-- Record a tick, fenced. False when fenced. A repeat of the last recorded
-- idle outcome within 55 s (aol_now()) refreshes aol_tick_liveness only.
CREATE OR REPLACE FUNCTION aol_record_tick(p_owner text, p_epoch bigint, p_data jsonb)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  l aol_tick_liveness;
  t timestamptz;
  v_now timestamptz;
  v_started timestamptz;
  v_idle boolean := coalesce((p_data->>'actions_attempted')::integer, 0) = 0;
  e aol_events;
BEGIN
  IF NOT aol_fence(p_owner, p_epoch, 'TickRecorded', NULL) THEN
    RETURN false;
  END IF;
  t := clock_timestamp();
  v_now := aol_now();
  v_started := coalesce((p_data->>'started_at')::timestamptz, t);
  SELECT * INTO l FROM aol_tick_liveness WHERE id = 1;
  IF FOUND AND v_idle AND l.idle AND l.worker = p_owner AND l.epoch = p_epoch
     AND l.status = p_data->>'status' AND l.notes = p_data->>'notes'
     AND v_now >= l.recorded_at AND v_now < l.recorded_at + interval '55 seconds' THEN
    UPDATE aol_tick_liveness SET started_at_utc = v_started, finished_at_utc = t, ticks = ticks + 1 WHERE id = 1;
    RETURN true;
  END IF;
  e := aol_append('tick', NULL, 'TickRecorded', p_data || jsonb_build_object(
    'worker', p_owner, 'epoch', p_epoch, 'finished_at', aol_iso(t)), aol_worker_metadata(p_owner));
  INSERT INTO aol_tick_liveness VALUES (1, p_owner, p_epoch, e.seq, e.data->>'status', e.data->>'notes', v_idle,
    v_started, t, v_now, coalesce(l.ticks, 0) + 1)
  ON CONFLICT (id) DO UPDATE SET worker = EXCLUDED.worker, epoch = EXCLUDED.epoch, seq = EXCLUDED.seq,
    status = EXCLUDED.status, notes = EXCLUDED.notes, idle = EXCLUDED.idle, started_at_utc = EXCLUDED.started_at_utc,
    finished_at_utc = EXCLUDED.finished_at_utc, recorded_at = EXCLUDED.recorded_at, ticks = EXCLUDED.ticks;
  RETURN true;
END $$;

-- Rebuild every read model from the log, in one transaction, through the
-- same projection the appends use, p_chunk events at a time. Holding the
-- append lock keeps writers out, so the result is the state as of the last
-- event. The lease's liveness columns are not in the log (renewals are not
-- events, 0018): the live lease keeps them when the log gives back the same
-- owner and epoch, so a rebuild never expires a lease that is being renewed.
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
  v_lease aol_lease;
BEGIN
  PERFORM pg_advisory_xact_lock(7310001);
  PERFORM set_config('aol.projecting', 'on', true);
  SELECT * INTO v_lease FROM aol_lease;
  PERFORM aol_reset_control();
  PERFORM aol_reset_lease();
  PERFORM aol_reset_tick();
  PERFORM aol_reset_action();
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
  IF v_lease.epoch IS NOT NULL THEN
    UPDATE aol_lease SET renewed_at_utc = greatest(renewed_at_utc, v_lease.renewed_at_utc),
                         expires_at_utc = greatest(expires_at_utc, v_lease.expires_at_utc)
     WHERE owner = v_lease.owner AND epoch = v_lease.epoch;
  END IF;
  PERFORM set_config('aol.projecting', 'off', true);
  RETURN v_head;
END $$;

-- Everything GET /health/aol needs, in one statement of index lookups: the
-- last tick (by seq), the lease (its expiry and renewal: liveness columns),
-- the tick liveness row, the flags and acknowledgement, the queue counters
-- kept by the projection, the head of the log. No COUNT(*).
CREATE OR REPLACE FUNCTION aol_health_inputs() RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'now', aol_iso(aol_now()),
    'last_tick', (SELECT to_jsonb(t) FROM (SELECT * FROM aol_tick_ledger ORDER BY seq DESC LIMIT 1) t),
    'tick_liveness', (SELECT to_jsonb(v) FROM aol_tick_liveness v WHERE id = 1),
    'lease', (SELECT to_jsonb(l) FROM aol_lease l LIMIT 1),
    'flags', (SELECT to_jsonb(f) FROM aol_control_flags f WHERE id = 1),
    'ack', (SELECT to_jsonb(a) FROM aol_control_ack a WHERE id = 1),
    'counts', (SELECT jsonb_object_agg(lower(status), n) FROM aol_queue_counts),
    'last_event_seq', (SELECT coalesce(max(seq), 0) FROM aol_events),
    'pending_request', (SELECT to_jsonb(r) FROM (SELECT * FROM aol_proof_requests WHERE status = 'PENDING'
                         ORDER BY requested_at DESC LIMIT 1) r)
  )
$$;

DROP TRIGGER IF EXISTS aol_tick_liveness_guard ON aol_tick_liveness;
CREATE TRIGGER aol_tick_liveness_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON aol_tick_liveness
  FOR EACH STATEMENT WHEN (NOT aol_projecting()) EXECUTE FUNCTION aol_read_model_guard();
-- END FUNCTIONS lease

SELECT aol_secure_objects();
