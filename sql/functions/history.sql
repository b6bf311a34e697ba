-- Snapshots of the replayed state (issue 15; the table is migration 0019):
-- written only by aol_record_snapshot(), which appends SnapshotTaken in the
-- same transaction; nobody updates, deletes or truncates a snapshot.

CREATE OR REPLACE FUNCTION aol_snapshots_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'aol_snapshots is written only by aol_record_snapshot() and never changed: % refused', TG_OP
    USING ERRCODE = 'AOL01';
END $$;

-- Store the snapshot of `p_seq` (its state's bytes) and append the
-- SnapshotTaken event that records its seq and sha256 (computed here from the
-- bytes), in the caller's transaction, under the append lock. A snapshot of
-- that seq taken already is kept: the result is then NULL, else the event's seq.
-- Appends through aol_append_many(), so only the service role may.
CREATE OR REPLACE FUNCTION aol_record_snapshot(p_seq bigint, p_state bytea, p_metadata jsonb)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_sha text;
  v_head bigint;
  v_event bigint;
BEGIN
  IF p_seq IS NULL OR p_state IS NULL THEN
    RAISE EXCEPTION 'a snapshot needs a seq and a state' USING ERRCODE = 'AOL01';
  END IF;
  PERFORM pg_advisory_xact_lock(7310001);
  SELECT max(seq) INTO v_head FROM aol_events;
  IF p_seq < 1 OR p_seq > coalesce(v_head, 0) THEN
    RAISE EXCEPTION 'no snapshot of seq %: the log holds seq 1 to %', p_seq, coalesce(v_head, 0)
      USING ERRCODE = 'AOL01';
  END IF;
  IF EXISTS (SELECT 1 FROM aol_snapshots WHERE seq = p_seq) THEN
    RETURN NULL;
  END IF;
  v_sha := encode(sha256(p_state), 'hex');
  SELECT a.seq INTO v_event
    FROM aol_append_many(ARRAY['log'], NULL, ARRAY['SnapshotTaken'],
           ARRAY[jsonb_build_object('seq', p_seq, 'sha256', v_sha, 'bytes', length(p_state))],
           ARRAY[coalesce(p_metadata, '{}'::jsonb)]) a;
  INSERT INTO aol_snapshots (seq, state, sha256, event_seq) VALUES (p_seq, p_state, v_sha, v_event);
  RETURN v_event;
END $$;

DROP TRIGGER IF EXISTS aol_snapshots_insert_by_record ON aol_snapshots;
CREATE TRIGGER aol_snapshots_insert_by_record BEFORE INSERT ON aol_snapshots
  FOR EACH STATEMENT WHEN (current_user <> 'aol_owner'::name) EXECUTE FUNCTION aol_snapshots_refuse_change();
DROP TRIGGER IF EXISTS aol_snapshots_no_change ON aol_snapshots;
CREATE TRIGGER aol_snapshots_no_change BEFORE UPDATE OR DELETE ON aol_snapshots
  FOR EACH STATEMENT EXECUTE FUNCTION aol_snapshots_refuse_change();
DROP TRIGGER IF EXISTS aol_snapshots_no_truncate ON aol_snapshots;
CREATE TRIGGER aol_snapshots_no_truncate BEFORE TRUNCATE ON aol_snapshots
  FOR EACH STATEMENT EXECUTE FUNCTION aol_snapshots_refuse_change();
