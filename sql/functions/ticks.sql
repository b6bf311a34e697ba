-- Area: ticks: the `tick` stream and its read model aol_tick_ledger.

-- The tick ledger a rebuild starts from: empty.
CREATE OR REPLACE FUNCTION aol_reset_tick() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM aol_tick_ledger;
END $$;

-- Project a batch of tick events.
CREATE OR REPLACE FUNCTION aol_apply_ticks(p_seq bigint[], p_stream text[], p_type text[], p_data jsonb[])
RETURNS void LANGUAGE sql AS $$
  INSERT INTO aol_tick_ledger
  SELECT e.seq, (e.data->>'started_at')::timestamptz, (e.data->>'finished_at')::timestamptz, e.data->>'status',
         (e.data->>'actions_attempted')::integer, (e.data->>'actions_succeeded')::integer,
         e.data->>'notes', e.data->>'worker', (e.data->>'epoch')::bigint
    FROM unnest(p_seq, p_stream, p_type, p_data) e(seq, stream, type, data)
   WHERE e.stream = 'tick' AND e.type = 'TickRecorded'
$$;

-- Record a tick, fenced. False when fenced. Every tick is a TickRecorded
-- event (one aol_tick_ledger row per tick, as the SPEC has it) and refreshes
-- aol_tick_liveness (the latest tick and a counter of all ticks).
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
  e := aol_append('tick', NULL, 'TickRecorded', p_data || jsonb_build_object(
    'worker', p_owner, 'epoch', p_epoch, 'finished_at', aol_iso(t)), aol_worker_metadata(p_owner));
  INSERT INTO aol_tick_liveness VALUES (1, p_owner, p_epoch, e.seq, e.data->>'status', e.data->>'notes', v_idle,
    v_started, t, v_now, coalesce(l.ticks, 0) + 1)
  ON CONFLICT (id) DO UPDATE SET worker = EXCLUDED.worker, epoch = EXCLUDED.epoch, seq = EXCLUDED.seq,
    status = EXCLUDED.status, notes = EXCLUDED.notes, idle = EXCLUDED.idle, started_at_utc = EXCLUDED.started_at_utc,
    finished_at_utc = EXCLUDED.finished_at_utc, recorded_at = EXCLUDED.recorded_at, ticks = EXCLUDED.ticks;
  RETURN true;
END $$;

-- The guard of a read model that grows by a row per event checks once per
-- statement instead of once per row, and refuses TRUNCATE too.
DROP TRIGGER IF EXISTS aol_tick_ledger_guard ON aol_tick_ledger;
CREATE TRIGGER aol_tick_ledger_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON aol_tick_ledger
  FOR EACH STATEMENT WHEN (NOT aol_projecting()) EXECUTE FUNCTION aol_read_model_guard();

-- The tick liveness row (migration 0018) is written only by aol_record_tick
-- (as aol_owner); anything else is refused like a read model write.
DROP TRIGGER IF EXISTS aol_tick_liveness_guard ON aol_tick_liveness;
CREATE TRIGGER aol_tick_liveness_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON aol_tick_liveness
  FOR EACH STATEMENT WHEN (NOT aol_projecting()) EXECUTE FUNCTION aol_read_model_guard();
