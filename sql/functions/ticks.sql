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
-- event: one aol_tick_ledger row per tick, as the SPEC has it.
CREATE OR REPLACE FUNCTION aol_record_tick(p_owner text, p_epoch bigint, p_data jsonb)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF NOT aol_fence(p_owner, p_epoch, 'TickRecorded', NULL) THEN
    RETURN false;
  END IF;
  PERFORM aol_append('tick', NULL, 'TickRecorded', p_data || jsonb_build_object(
    'worker', p_owner, 'epoch', p_epoch, 'finished_at', aol_iso(clock_timestamp())), aol_worker_metadata(p_owner));
  RETURN true;
END $$;

-- The guard of a read model that grows by a row per event checks once per
-- statement instead of once per row, and refuses TRUNCATE too.
DROP TRIGGER IF EXISTS aol_tick_ledger_guard ON aol_tick_ledger;
CREATE TRIGGER aol_tick_ledger_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON aol_tick_ledger
  FOR EACH STATEMENT WHEN (current_user <> 'aol_owner'::name) EXECUTE FUNCTION aol_read_model_guard();

