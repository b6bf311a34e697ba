-- Operations: the four-eyes proof-off requests read model, and the health
-- clock.

-- Production proof-off requests, projected from the control stream.
CREATE TABLE aol_proof_requests (
  request_id     text        PRIMARY KEY,
  requested_by   text        NOT NULL,
  reason         text,
  requested_at   timestamptz NOT NULL,
  expires_at     timestamptz NOT NULL,
  status         text        NOT NULL CHECK (status IN ('PENDING', 'APPROVED', 'EXPIRED')),
  decided_by     text,
  decided_at     timestamptz
);
CREATE INDEX aol_proof_requests_pending ON aol_proof_requests (requested_at DESC) WHERE status = 'PENDING';
CREATE TRIGGER aol_proof_requests_guard AFTER INSERT OR UPDATE OR DELETE ON aol_proof_requests
  FOR EACH ROW WHEN (NOT aol_projecting()) EXECUTE FUNCTION aol_read_model_guard();

CREATE OR REPLACE FUNCTION aol_reset_control() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM aol_control_flags;
  INSERT INTO aol_control_flags VALUES (1, false, false, false, NULL, 0);
  DELETE FROM aol_control_ack;
  INSERT INTO aol_control_ack VALUES (1, 0, NULL, NULL, NULL, NULL);
  DELETE FROM aol_proof_requests;
END $$;

CREATE OR REPLACE FUNCTION aol_apply_control(e aol_events) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  CASE e.type
    WHEN 'ControlPaused' THEN
      UPDATE aol_control_flags SET paused = true, version = e.stream_version, updated_at_utc = e.occurred_at;
    WHEN 'ControlResumed' THEN
      UPDATE aol_control_flags SET paused = false, version = e.stream_version, updated_at_utc = e.occurred_at;
    WHEN 'ControlKilled' THEN
      UPDATE aol_control_flags SET killed = true, version = e.stream_version, updated_at_utc = e.occurred_at;
    WHEN 'ControlRevived' THEN
      UPDATE aol_control_flags SET killed = false, version = e.stream_version, updated_at_utc = e.occurred_at;
    WHEN 'ProofModeEnabled' THEN
      UPDATE aol_control_flags SET proof_mode = true, version = e.stream_version, updated_at_utc = e.occurred_at;
    WHEN 'ProofModeDisabled' THEN
      UPDATE aol_control_flags SET proof_mode = false, version = e.stream_version, updated_at_utc = e.occurred_at;
    WHEN 'ControlAcknowledged' THEN
      UPDATE aol_control_ack SET
        control_version = (e.data->>'control_version')::integer,
        worker = e.data->>'worker',
        epoch = (e.data->>'epoch')::bigint,
        delay_ms = (e.data->>'delay_ms')::double precision,
        acknowledged_at_utc = e.occurred_at
      WHERE (e.data->>'control_version')::integer >= control_version;
    WHEN 'ProofModeDisableRequested' THEN
      INSERT INTO aol_proof_requests VALUES (e.data->>'request_id', e.data->>'requested_by', e.metadata->>'reason',
        e.occurred_at, (e.data->>'expires_at')::timestamptz, 'PENDING', NULL, NULL);
    WHEN 'ProofModeDisableApproved' THEN
      UPDATE aol_proof_requests SET status = 'APPROVED', decided_by = e.data->>'approved_by', decided_at = e.occurred_at
       WHERE request_id = e.data->>'request_id';
    WHEN 'ProofModeDisableExpired' THEN
      UPDATE aol_proof_requests SET status = 'EXPIRED', decided_at = e.occurred_at
       WHERE request_id = e.data->>'request_id';
    ELSE
      RAISE EXCEPTION 'unknown control event type %', e.type;
  END CASE;
END $$;

-- The clock health judges ages by: database time, plus an offset operators
-- can set for a drill ("what would health say in 10 minutes?") and tests use
-- to advance time without sleeping. Zero unless someone sets it.
CREATE TABLE aol_clock (
  id             integer          PRIMARY KEY CHECK (id = 1),
  offset_seconds double precision NOT NULL DEFAULT 0
);
INSERT INTO aol_clock VALUES (1, 0);

CREATE FUNCTION aol_now() RETURNS timestamptz LANGUAGE sql STABLE AS $$
  SELECT clock_timestamp() + make_interval(secs => (SELECT offset_seconds FROM aol_clock WHERE id = 1))
$$;

-- Everything GET /health/aol needs, in one statement of index lookups: the
-- last tick (by seq), the lease, the flags and acknowledgement, the queue
-- counters kept by the projection, the head of the log. No COUNT(*).
CREATE FUNCTION aol_health_inputs() RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'now', aol_iso(aol_now()),
    'last_tick', (SELECT to_jsonb(t) FROM (SELECT * FROM aol_tick_ledger ORDER BY seq DESC LIMIT 1) t),
    'lease', (SELECT to_jsonb(l) FROM aol_lease l LIMIT 1),
    'flags', (SELECT to_jsonb(f) FROM aol_control_flags f WHERE id = 1),
    'ack', (SELECT to_jsonb(a) FROM aol_control_ack a WHERE id = 1),
    'counts', (SELECT jsonb_object_agg(lower(status), n) FROM aol_queue_counts),
    'last_event_seq', (SELECT coalesce(max(seq), 0) FROM aol_events),
    'pending_request', (SELECT to_jsonb(r) FROM (SELECT * FROM aol_proof_requests WHERE status = 'PENDING'
                         ORDER BY requested_at DESC LIMIT 1) r)
  )
$$;
