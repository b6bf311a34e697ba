-- The log partitioned by seq range, so an archived prefix can leave the live
-- table in one operation the product controls (issue 15; docs/operations.md,
-- "Retention"). aol_events becomes a table partitioned by RANGE (seq): each
-- partition holds aol.events_partition_rows consecutive seqs (100,000 unless
-- the database sets it, 10 .. 1,000,000,000), and the append keeps one whole
-- partition ready beyond the head, so a partition is attached (SHARE UPDATE
-- EXCLUSIVE: readers and writers go on) once every that many events.
--
-- Every guarantee of 0001/0010 holds for every live row, on the parent and
-- on each partition: UPDATE and DELETE are refused by the row trigger (cloned
-- onto each partition), TRUNCATE and a stray INSERT by statement triggers
-- created on the parent and on each partition. Only aol_archive_segment()
-- (an admin's, SECURITY DEFINER) detaches and drops partitions, and only
-- whole partitions below the head whose events an archive manifest vouches
-- for, after recording LogSegmentArchived in the same transaction.
--
-- What partitioning costs: PostgreSQL can't keep UNIQUE (stream,
-- stream_version) across partitions (a unique index must contain seq); the
-- append lock already serialises the version each append assigns, so the
-- index stays, not unique.
--
-- The functions whose signature names the row type aol_events are dropped and
-- created again with their current bodies (0003, 0009, 0010): the row type
-- is the new table's.

ALTER TABLE aol_events RENAME TO aol_events_unpartitioned;
ALTER INDEX aol_events_pkey RENAME TO aol_events_unpartitioned_pkey;
ALTER INDEX aol_events_stream_stream_version_key RENAME TO aol_events_unpartitioned_stream_version_key;
ALTER INDEX aol_events_stream_seq RENAME TO aol_events_unpartitioned_stream_seq;
ALTER INDEX aol_events_type_seq RENAME TO aol_events_unpartitioned_type_seq;
ALTER INDEX aol_events_occurred_at RENAME TO aol_events_unpartitioned_occurred_at;

CREATE TABLE aol_events (
  seq            bigint      NOT NULL,
  stream         text        NOT NULL,
  stream_version integer     NOT NULL CONSTRAINT aol_events_stream_version_check CHECK (stream_version > 0),
  type           text        NOT NULL,
  data           jsonb       NOT NULL,
  metadata       jsonb       NOT NULL,
  occurred_at    timestamptz NOT NULL,
  prev_hash      text        NOT NULL,
  hash           text        NOT NULL,
  PRIMARY KEY (seq),
  CONSTRAINT aol_events_stream_check CHECK (stream ~ '^(control|lease|tick|log|action:[0-9]+)$')
) PARTITION BY RANGE (seq);
-- Keep the stream check of the table it replaces (a later migration may have widened it).
DO $$
DECLARE
  v_def text;
BEGIN
  SELECT pg_get_constraintdef(oid) INTO v_def FROM pg_constraint
   WHERE conrelid = 'aol_events_unpartitioned'::regclass AND conname = 'aol_events_stream_check';
  IF v_def IS NOT NULL THEN
    ALTER TABLE aol_events DROP CONSTRAINT aol_events_stream_check;
    EXECUTE 'ALTER TABLE aol_events ADD CONSTRAINT aol_events_stream_check ' || v_def;
  END IF;
END $$;
CREATE INDEX aol_events_stream_version ON aol_events (stream, stream_version);
CREATE INDEX aol_events_stream_seq ON aol_events (stream, seq);
CREATE INDEX aol_events_type_seq ON aol_events (type, seq);
CREATE INDEX aol_events_occurred_at ON aol_events (occurred_at);

-- The upper bound (exclusive) of the last partition: the append reads it to
-- know whether a partition must be made ready. Only aol_owner may write it
-- (no grant); a wrong value makes an append fail, it can't remove an event.
CREATE TABLE aol_events_horizon (
  id    integer PRIMARY KEY CHECK (id = 1),
  upper bigint  NOT NULL
);
INSERT INTO aol_events_horizon VALUES (1, 1);

DROP FUNCTION aol_append(text, integer, text, jsonb, jsonb);
DROP FUNCTION aol_append_batch(jsonb);
DROP FUNCTION aol_append_many(text[], integer[], text[], jsonb[], jsonb[]);
DROP FUNCTION aol_append_raw(text[], integer[], text[], jsonb[], jsonb[]);
DROP FUNCTION aol_apply_control(aol_events_unpartitioned);
DROP FUNCTION aol_apply_lease(aol_events_unpartitioned);
DROP FUNCTION aol_lease_force_release(jsonb);

-- BEGIN FUNCTIONS events
-- How many seqs a new partition holds: the database's setting
-- aol.events_partition_rows (ALTER DATABASE … SET), else 100,000.
CREATE OR REPLACE FUNCTION aol_events_partition_rows() RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN v ~ '^[0-9]{1,10}$' THEN greatest(10, least(1000000000, v::bigint)) ELSE 100000 END
    FROM coalesce(current_setting('aol.events_partition_rows', true), '') v
$$;

-- The live partitions, oldest first: name and seq range [first_seq, end_seq).
CREATE OR REPLACE FUNCTION aol_events_partitions()
RETURNS TABLE (partition text, first_seq bigint, end_seq bigint) LANGUAGE sql STABLE AS $$
  SELECT c.relname::text, b[1]::bigint, b[2]::bigint
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid,
         regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''?(-?[0-9]+)''?\) TO \(''?(-?[0-9]+)''?\)') b
   WHERE i.inhparent = 'aol_events'::regclass
   ORDER BY 2
$$;

-- One partition [p_from, p_to), created empty and then attached (SHARE UPDATE
-- EXCLUSIVE on the parent, so appends and reads go on), with the statement
-- triggers a partition does not inherit: TRUNCATE and INSERT refused on it too.
CREATE OR REPLACE FUNCTION aol_events_create_partition(p_from bigint, p_to bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_name text := format('aol_events_%s', lpad(p_from::text, 12, '0'));
BEGIN
  -- only the next partition, right after the last (so no caller can leave a hole the append would
  -- fall into)
  IF p_from IS DISTINCT FROM (SELECT upper FROM aol_events_horizon WHERE id = 1) OR NOT p_to > p_from THEN
    RAISE EXCEPTION 'the next partition of aol_events starts at seq %, not %', (SELECT upper FROM aol_events_horizon WHERE id = 1), p_from
      USING ERRCODE = 'AOL01';
  END IF;
  EXECUTE format('CREATE TABLE %I (LIKE aol_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', v_name);
  EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (seq >= %s AND seq < %s)', v_name, v_name || '_range', p_from, p_to);
  EXECUTE format('ALTER TABLE aol_events ATTACH PARTITION %I FOR VALUES FROM (%s) TO (%s)', v_name, p_from, p_to);
  EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', v_name, v_name || '_range');
  EXECUTE format('CREATE TRIGGER aol_events_no_truncate BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION aol_events_refuse_change()', v_name);
  EXECUTE format('CREATE TRIGGER aol_events_insert_by_append BEFORE INSERT ON %I FOR EACH STATEMENT EXECUTE FUNCTION aol_events_refuse_change()', v_name);
  EXECUTE format('REVOKE ALL ON %I FROM PUBLIC', v_name);
  EXECUTE format('GRANT SELECT ON %I TO aol_auditor', v_name);
  UPDATE aol_events_horizon SET upper = greatest(upper, p_to) WHERE id = 1;
END $$;

-- Called by every append with the highest seq it will write: keeps one whole
-- partition ready beyond it (so the attach happens ahead, once per partition).
CREATE OR REPLACE FUNCTION aol_events_ensure_partitions(p_upto bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_hi bigint := (SELECT upper FROM aol_events_horizon WHERE id = 1);
  v_width bigint;
BEGIN
  v_width := aol_events_partition_rows();
  WHILE v_hi <= p_upto + v_width LOOP
    PERFORM aol_events_create_partition(v_hi, v_hi + v_width);
    v_hi := v_hi + v_width;
  END LOOP;
  -- Until the head reaches v_hi - v_width a whole partition stays ready: this session's appends
  -- skip the check until then, while the last partition exists (aol_append_raw).
  PERFORM set_config('aol.events_ready_below', (v_hi - v_width)::text, false);
  PERFORM set_config('aol.events_last_partition',
    (SELECT x.partition FROM aol_events_partitions() x ORDER BY x.first_seq DESC LIMIT 1), false);
END $$;

-- Archiving (aol events archive, docs/operations.md): the only way events leave
-- the live table. p_data is the LogSegmentArchived record the CLI built from
-- the manifest it wrote and signed: {first_seq, last_seq, first_prev_hash,
-- last_hash, count, manifest_sha256, files, key_id}. It must describe exactly
-- the live events from the first one through p_data.last_seq, which must end
-- a partition below the head's. In one transaction: the event is appended,
-- then those partitions are detached and dropped.
CREATE OR REPLACE FUNCTION aol_archive_segment(p_data jsonb, p_reason text, p_via text) RETURNS aol_events
LANGUAGE plpgsql AS $$
DECLARE
  v_last_seq bigint;
  v_first aol_events;
  v_last aol_events;
  v_head bigint;
  e aol_events;
  p record;
  v_bounds text;
BEGIN
  IF NOT pg_has_role(session_user, 'aol_admin', 'MEMBER') THEN
    RAISE EXCEPTION 'only an admin (aol_admin) may archive events out of the live log' USING ERRCODE = 'AOL03';
  END IF;
  IF jsonb_typeof(p_data->'last_seq') IS DISTINCT FROM 'number' OR coalesce(p_data->>'manifest_sha256', '') !~ '^[0-9a-f]{64}$' THEN
    RAISE EXCEPTION 'an archive record needs last_seq and manifest_sha256 (64 hex digits)' USING ERRCODE = 'AOL01';
  END IF;
  v_last_seq := (p_data->>'last_seq')::bigint;
  PERFORM pg_advisory_xact_lock(7310001);
  SELECT * INTO v_first FROM aol_events ORDER BY seq LIMIT 1;
  v_head := (SELECT max(seq) FROM aol_events);
  SELECT * INTO v_last FROM aol_events WHERE seq = v_last_seq;
  IF NOT FOUND OR v_last_seq >= v_head THEN
    RAISE EXCEPTION 'seq % is not a live event before the head (the live log holds %..%)', v_last_seq, v_first.seq, v_head
      USING ERRCODE = 'AOL01';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM aol_events_partitions() x WHERE x.end_seq = v_last_seq + 1) THEN
    SELECT string_agg((x.end_seq - 1)::text, ', ' ORDER BY x.first_seq) INTO v_bounds
      FROM aol_events_partitions() x WHERE x.end_seq <= v_head;
    RAISE EXCEPTION 'an archive ends at a partition boundary: seq % does not (archivable ends: %)', v_last_seq,
      coalesce(v_bounds, 'none yet') USING ERRCODE = 'AOL01';
  END IF;
  IF (p_data->>'first_seq')::bigint IS DISTINCT FROM v_first.seq
     OR (p_data->>'count')::bigint IS DISTINCT FROM v_last_seq - v_first.seq + 1
     OR p_data->>'first_prev_hash' IS DISTINCT FROM v_first.prev_hash
     OR p_data->>'last_hash' IS DISTINCT FROM v_last.hash THEN
    RAISE EXCEPTION 'the archive record does not match the live log (events %..%, prev_hash %, last hash %): nothing was removed',
      v_first.seq, v_last_seq, v_first.prev_hash, v_last.hash USING ERRCODE = 'AOL01';
  END IF;
  SELECT * INTO e FROM aol_append_raw(ARRAY['log'], NULL, ARRAY['LogSegmentArchived'], ARRAY[p_data],
    ARRAY[jsonb_build_object('actor', session_user::text, 'via', CASE WHEN p_via = 'cli' THEN 'cli' ELSE 'sql' END,
      'reason', coalesce(nullif(btrim(p_reason), ''), 'archived'))]);
  -- a reader in the middle of a long query would make this wait: fail instead, nothing removed
  PERFORM set_config('lock_timeout', '10s', true);
  FOR p IN SELECT * FROM aol_events_partitions() x WHERE x.end_seq <= v_last_seq + 1 ORDER BY x.first_seq LOOP
    EXECUTE format('ALTER TABLE aol_events DETACH PARTITION %I', p.partition);
    EXECUTE format('DROP TABLE %I', p.partition);
  END LOOP;
  RETURN e;
END $$;

CREATE OR REPLACE FUNCTION aol_append_raw(
  p_stream text[], p_expected integer[], p_type text[], p_data jsonb[], p_metadata jsonb[]
) RETURNS SETOF aol_events LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  v_n integer := coalesce(cardinality(p_stream), 0);
  v_head aol_events;
  v_at timestamptz;
  v_seq bigint[];
  v_version integer[];
  v_data jsonb[];
  v_metadata jsonb[];
  v_content text[];
  v_prev text[];
  v_hash text[];
  v_ats timestamptz[];
  v_h text;
BEGIN
  IF v_n = 0 THEN
    RETURN;
  END IF;
  PERFORM pg_advisory_xact_lock(7310001);
  SELECT * INTO v_head FROM aol_events ORDER BY seq DESC LIMIT 1;
  v_at := clock_timestamp();
  -- seq follows the head; each event's stream version is its stream's head
  -- plus its place among the batch's events on that stream
  SELECT array_agg(x.seq ORDER BY x.i), array_agg(x.version ORDER BY x.i),
         array_agg(x.data ORDER BY x.i), array_agg(x.metadata ORDER BY x.i),
         array_agg(aol_event_content(x.seq, x.stream, x.version, x.type, x.data, x.metadata, v_at) ORDER BY x.i)
    INTO v_seq, v_version, v_data, v_metadata, v_content
    FROM (
      SELECT u.i, coalesce(v_head.seq, 0) + u.i AS seq, u.stream, u.type,
             coalesce(u.data, '{}'::jsonb) AS data, coalesce(u.metadata, '{}'::jsonb) AS metadata,
             coalesce((SELECT max(s.stream_version) FROM aol_events s WHERE s.stream = u.stream), 0)
               + (row_number() OVER (PARTITION BY u.stream ORDER BY u.i))::integer AS version
        FROM unnest(p_stream, p_type, p_data, p_metadata) WITH ORDINALITY AS u(stream, type, data, metadata, i)
    ) x;
  -- a partition is always ready beyond the head (0020): this creates one every so often. The
  -- session remembers below which seq that holds and the partition that makes it so; the check
  -- is skipped while the head is below it and that partition exists (it may not, if the
  -- transaction that made it rolled back)
  IF coalesce(substring(current_setting('aol.events_ready_below', true) FROM '^[0-9]{1,18}$'), '0')::bigint
       <= coalesce(v_head.seq, 0) + v_n
     OR to_regclass(coalesce(nullif(current_setting('aol.events_last_partition', true), ''), '-')) IS NULL THEN
    PERFORM aol_events_ensure_partitions(coalesce(v_head.seq, 0) + v_n);
  END IF;
  v_h := coalesce(v_head.hash, repeat('0', 64));
  FOR i IN 1..v_n LOOP
    IF p_expected[i] IS NOT NULL AND p_expected[i] <> v_version[i] - 1 THEN
      RAISE EXCEPTION 'stream % is at version %, expected %', p_stream[i], v_version[i] - 1, p_expected[i]
        USING ERRCODE = 'AOL09';
    END IF;
    v_prev[i] := v_h;
    v_h := encode(sha256(convert_to(v_h || v_content[i], 'UTF8')), 'hex');
    v_hash[i] := v_h;
  END LOOP;
  v_ats := array_fill(v_at, ARRAY[v_n]);
  INSERT INTO aol_events
  SELECT * FROM unnest(v_seq, p_stream, v_version, p_type, v_data, v_metadata, v_ats, v_prev, v_hash);
  PERFORM aol_apply_events(v_seq, p_stream, v_version, p_type, v_data, v_metadata, v_ats);
  -- Delivered at commit, never for a rolled-back append. Only a pointer:
  -- consumers re-read the table from their last seq (it now carries the
  -- stream version too).
  PERFORM pg_notify('aol_events', json_build_object('stream', e.stream, 'seq', e.seq, 'type', e.type,
    'version', e.version)::text)
     FROM unnest(v_seq, p_stream, p_type, v_version) e(seq, stream, type, version);
  RETURN QUERY SELECT * FROM unnest(v_seq, p_stream, v_version, p_type, v_data, v_metadata, v_ats, v_prev, v_hash);
END $$;

CREATE OR REPLACE FUNCTION aol_append_many(
  p_stream text[], p_expected integer[], p_type text[], p_data jsonb[], p_metadata jsonb[]
) RETURNS SETOF aol_events LANGUAGE plpgsql AS $$
DECLARE
  v_n integer := coalesce(cardinality(p_stream), 0);
  v_service boolean := pg_has_role(session_user, 'aol_service', 'MEMBER');
  v_meta jsonb[] := p_metadata;
  v_prod boolean;
  m jsonb;
  v_actor text;
  r aol_proof_requests;
BEGIN
  IF v_n = 0 THEN
    RETURN;
  END IF;
  PERFORM pg_advisory_xact_lock(7310001);
  v_prod := aol_is_production();
  FOR i IN 1..v_n LOOP
    m := coalesce(p_metadata[i], '{}'::jsonb);
    IF p_type[i] IN ('ProductionModeEntered', 'ProductionModeCleared', 'TestClockSet') THEN
      RAISE EXCEPTION '% is written only by its own function (aol_mark_production, aol_clear_production, UPDATE aol_clock)',
        p_type[i] USING ERRCODE = 'AOL03';
    END IF;
    IF NOT v_service THEN
      IF NOT (p_type[i] = ANY (aol_operator_event_types()) AND pg_has_role(session_user, 'aol_operator', 'MEMBER'))
         AND NOT (p_type[i] IN ('ProofModeDisableApproved', 'LogCheckpointSigned')
                  AND pg_has_role(session_user, 'aol_admin', 'MEMBER')) THEN
        RAISE EXCEPTION 'role % may not append % events: operators (aol_operator) change flags, leases and actions through the runbook SQL and the aol CLI, approvals and signed checkpoints need aol_admin, worker events need aol_service',
          session_user, p_type[i] USING ERRCODE = 'AOL03';
      END IF;
      m := (m - 'actor' - 'via' - 'label')
        || jsonb_build_object('actor', session_user::text, 'via', CASE WHEN m->>'via' = 'cli' THEN 'cli' ELSE 'sql' END)
        || CASE WHEN coalesce(m->>'label', nullif(m->>'actor', session_user::text)) IS NOT NULL
             THEN jsonb_build_object('label', coalesce(m->>'label', m->>'actor')) ELSE '{}'::jsonb END;
      v_meta[i] := m;
    END IF;
    v_actor := m->>'actor';
    IF p_type[i] = 'ProofModeDisableRequested' AND p_data[i]->>'requested_by' IS DISTINCT FROM v_actor THEN
      RAISE EXCEPTION 'a proof-off request is made by its actor (%), not on behalf of %', v_actor, p_data[i]->>'requested_by'
        USING ERRCODE = 'AOL03';
    ELSIF p_type[i] = 'ProofModeDisableApproved' THEN
      SELECT * INTO r FROM aol_proof_requests WHERE request_id = p_data[i]->>'request_id';
      IF NOT FOUND OR r.status <> 'PENDING' OR r.expires_at <= aol_now() THEN
        RAISE EXCEPTION 'no pending, unexpired proof-off request %', p_data[i]->>'request_id' USING ERRCODE = 'AOL01';
      END IF;
      IF r.requested_by = v_actor THEN
        RAISE EXCEPTION 'four-eyes: % requested % and cannot approve it; another identity must', v_actor, r.request_id
          USING ERRCODE = 'AOL03';
      END IF;
      IF p_data[i]->>'approved_by' IS DISTINCT FROM v_actor OR p_data[i]->>'requested_by' IS DISTINCT FROM r.requested_by THEN
        RAISE EXCEPTION 'an approval names its actor (%) as approved_by and the request''s requester (%)', v_actor, r.requested_by
          USING ERRCODE = 'AOL03';
      END IF;
    ELSIF p_type[i] = 'ProofModeDisabled' AND v_prod
          AND NOT (i > 1 AND p_type[i - 1] = 'ProofModeDisableApproved'
                   AND p_data[i - 1]->>'request_id' = p_data[i]->>'request_id') THEN
      RAISE EXCEPTION 'production: proof mode goes off only by a four-eyes request approved by a second identity'
        USING ERRCODE = 'AOL03';
    END IF;
  END LOOP;
  RETURN QUERY SELECT * FROM aol_append_raw(p_stream, p_expected, p_type, p_data, v_meta);
END $$;

CREATE OR REPLACE FUNCTION aol_append(
  p_stream text, p_expected integer, p_type text, p_data jsonb, p_metadata jsonb
) RETURNS aol_events LANGUAGE sql AS $$
  SELECT * FROM aol_append_many(ARRAY[p_stream], ARRAY[p_expected], ARRAY[p_type], ARRAY[p_data], ARRAY[p_metadata])
$$;

CREATE OR REPLACE FUNCTION aol_append_batch(p_events jsonb) RETURNS SETOF aol_events LANGUAGE sql AS $$
  SELECT * FROM aol_append_many(
    ARRAY(SELECT x->>'stream' FROM jsonb_array_elements(p_events) WITH ORDINALITY j(x, i) ORDER BY i),
    ARRAY(SELECT (x->>'expected_version')::integer FROM jsonb_array_elements(p_events) WITH ORDINALITY j(x, i) ORDER BY i),
    ARRAY(SELECT x->>'type' FROM jsonb_array_elements(p_events) WITH ORDINALITY j(x, i) ORDER BY i),
    ARRAY(SELECT x->'data' FROM jsonb_array_elements(p_events) WITH ORDINALITY j(x, i) ORDER BY i),
    ARRAY(SELECT x->'metadata' FROM jsonb_array_elements(p_events) WITH ORDINALITY j(x, i) ORDER BY i))
$$;

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
    WHEN 'ProductionModeEntered' THEN
      UPDATE aol_deployment SET production = true, changed_at_utc = e.occurred_at;
    WHEN 'ProductionModeCleared' THEN
      UPDATE aol_deployment SET production = false, changed_at_utc = e.occurred_at;
    WHEN 'TestClockSet' THEN
      UPDATE aol_clock SET offset_seconds = (e.data->>'offset_seconds')::double precision;
    -- scoped pauses: table aol_scoped_pauses, created by 0015_scoped_pause.sql
    WHEN 'ScopedPauseStarted' THEN
      INSERT INTO aol_scoped_pauses VALUES (e.data->>'pause_id',
        CASE WHEN jsonb_typeof(e.data->'action_types') = 'array'
             THEN ARRAY(SELECT jsonb_array_elements_text(e.data->'action_types')) END,
        (e.data->>'until')::timestamptz, e.metadata->>'reason', e.metadata->>'actor', e.occurred_at, NULL, NULL, NULL);
      UPDATE aol_control_flags SET version = e.stream_version, updated_at_utc = e.occurred_at;
    WHEN 'ScopedPauseEnded' THEN
      UPDATE aol_scoped_pauses SET ended_at_utc = e.occurred_at, expired = (e.data->>'expired')::boolean,
             ended_by = e.metadata->>'actor'
       WHERE pause_id = e.data->>'pause_id';
      UPDATE aol_control_flags SET version = e.stream_version, updated_at_utc = e.occurred_at;
    ELSE
      RAISE EXCEPTION 'unknown control event type %', e.type;
  END CASE;
END $$;

CREATE OR REPLACE FUNCTION aol_apply_lease(e aol_events) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  CASE e.type
    WHEN 'LeaseAcquired' THEN
      DELETE FROM aol_lease;
      INSERT INTO aol_lease VALUES (e.data->>'owner', (e.data->>'epoch')::bigint,
        (e.data->>'acquired_at')::timestamptz, (e.data->>'acquired_at')::timestamptz,
        (e.data->>'expires_at')::timestamptz);
      UPDATE aol_lease_epoch SET epoch = greatest(epoch, (e.data->>'epoch')::bigint);
    WHEN 'LeaseRenewed' THEN
      UPDATE aol_lease SET renewed_at_utc = e.occurred_at, expires_at_utc = (e.data->>'expires_at')::timestamptz
       WHERE epoch = (e.data->>'epoch')::bigint;
    WHEN 'LeaseReleased', 'LeaseExpired', 'LeaseForceReleased' THEN
      DELETE FROM aol_lease WHERE epoch = (e.data->>'epoch')::bigint;
    ELSE
      NULL; -- FencedWriteRejected: an audit record only
  END CASE;
END $$;

CREATE OR REPLACE FUNCTION aol_lease_force_release(p_metadata jsonb) RETURNS aol_events LANGUAGE plpgsql AS $$
DECLARE
  l aol_lease;
BEGIN
  PERFORM pg_advisory_xact_lock(7310001);
  SELECT * INTO l FROM aol_lease;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  RETURN aol_append('lease', NULL, 'LeaseForceReleased',
    jsonb_build_object('owner', l.owner, 'epoch', l.epoch), p_metadata);
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
  v_archived aol_events;
BEGIN
  PERFORM pg_advisory_xact_lock(7310001);
  PERFORM set_config('aol.projecting', 'on', true);
  PERFORM aol_reset_control();
  PERFORM aol_reset_lease();
  PERFORM aol_reset_tick();
  PERFORM aol_reset_action();
  v_head := coalesce((SELECT max(seq) FROM aol_events), 0);
  v_from := coalesce((SELECT min(seq) FROM aol_events), 1);
  IF v_from > 1 THEN
    -- 0020: the prefix lives only in the archive; a fold of what is left would be a wrong state
    SELECT * INTO v_archived FROM aol_events WHERE type = 'LogSegmentArchived' ORDER BY seq DESC LIMIT 1;
    RAISE EXCEPTION 'cannot rebuild from the live log: it starts at seq % because events 1..% were archived (LogSegmentArchived at seq %, manifest sha256 %); the state needs those events: replay from the archive (aol events replay --archive DIR) instead',
      v_from, v_from - 1, v_archived.seq, coalesce(v_archived.data->>'manifest_sha256', '?') USING ERRCODE = 'AOL01';
  END IF;
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

DROP TRIGGER IF EXISTS aol_events_no_update ON aol_events;
CREATE TRIGGER aol_events_no_update BEFORE UPDATE OR DELETE ON aol_events
  FOR EACH ROW EXECUTE FUNCTION aol_events_refuse_change();
DROP TRIGGER IF EXISTS aol_events_no_truncate ON aol_events;
CREATE TRIGGER aol_events_no_truncate BEFORE TRUNCATE ON aol_events
  FOR EACH STATEMENT EXECUTE FUNCTION aol_events_refuse_change();
DROP TRIGGER IF EXISTS aol_events_insert_by_append ON aol_events;
CREATE TRIGGER aol_events_insert_by_append BEFORE INSERT ON aol_events
  FOR EACH STATEMENT WHEN (current_user <> 'aol_owner'::name) EXECUTE FUNCTION aol_events_refuse_change();
-- END FUNCTIONS events

-- The partitions for what the log holds, one ready beyond it, and the rows.
DO $$
DECLARE
  v_head bigint := coalesce((SELECT max(seq) FROM aol_events_unpartitioned), 0);
BEGIN
  PERFORM aol_events_ensure_partitions(v_head);
END $$;
ALTER TABLE aol_events DISABLE TRIGGER aol_events_insert_by_append;
INSERT INTO aol_events SELECT * FROM aol_events_unpartitioned ORDER BY seq;
ALTER TABLE aol_events ENABLE TRIGGER aol_events_insert_by_append;
-- Anything else still bound to the old table (a function of a migration
-- merged beside this one whose signature names the row type, a view) is made
-- again on the new one, with its grants, so the old table can go.
DO $$
DECLARE
  f record;
  v record;
  g record;
  v_def text;
  v_head text;
BEGIN
  FOR f IN SELECT p.oid, p.oid::regprocedure::text AS sig, p.proacl FROM pg_proc p
            WHERE 'aol_events_unpartitioned'::regtype = ANY (p.proargtypes::oid[])
               OR p.prorettype = 'aol_events_unpartitioned'::regtype LOOP
    v_def := pg_get_functiondef(f.oid);
    v_head := split_part(v_def, E'\nAS ', 1);
    v_def := replace(v_head, 'aol_events_unpartitioned', 'aol_events') || substr(v_def, length(v_head) + 1);
    EXECUTE format('DROP FUNCTION %s', f.sig);
    EXECUTE v_def;
    FOR g IN SELECT grantee FROM aclexplode(f.proacl) WHERE privilege_type = 'EXECUTE' AND grantee <> 0 LOOP
      EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', replace(f.sig::text, 'aol_events_unpartitioned', 'aol_events'),
        (SELECT rolname FROM pg_roles WHERE oid = g.grantee));
    END LOOP;
  END LOOP;
  FOR v IN SELECT DISTINCT c.oid::regclass AS view FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
             JOIN pg_class c ON c.oid = r.ev_class
            WHERE d.refobjid = 'aol_events_unpartitioned'::regclass AND c.oid <> 'aol_events_unpartitioned'::regclass LOOP
    EXECUTE format('CREATE OR REPLACE VIEW %s AS %s', v.view,
      replace(pg_get_viewdef(v.view), 'aol_events_unpartitioned', 'aol_events'));
  END LOOP;
END $$;
DROP TABLE aol_events_unpartitioned;

GRANT EXECUTE ON FUNCTION aol_append(text, integer, text, jsonb, jsonb), aol_append_batch(jsonb),
  aol_append_many(text[], integer[], text[], jsonb[], jsonb[]) TO aol_operator;
GRANT EXECUTE ON FUNCTION aol_lease_force_release(jsonb), aol_archive_segment(jsonb, text, text) TO aol_admin;
GRANT EXECUTE ON FUNCTION aol_events_partitions(), aol_events_partition_rows() TO aol_auditor;
