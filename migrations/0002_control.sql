-- Control flags: the `control` stream projected into aol_control_flags (the
-- table the runbook's psql commands know) and aol_control_ack (the last
-- ControlAcknowledged a worker appended).

CREATE TABLE aol_control_flags (
  id             integer     PRIMARY KEY CHECK (id = 1),
  paused         boolean     NOT NULL,
  killed         boolean     NOT NULL,
  proof_mode     boolean     NOT NULL,
  updated_at_utc timestamptz,
  version        integer     NOT NULL
);

CREATE TABLE aol_control_ack (
  id                  integer     PRIMARY KEY CHECK (id = 1),
  control_version     integer     NOT NULL,
  worker              text,
  epoch               bigint,
  delay_ms            double precision,
  acknowledged_at_utc timestamptz
);

CREATE OR REPLACE FUNCTION aol_reset_control() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM aol_control_flags;
  INSERT INTO aol_control_flags VALUES (1, false, false, false, NULL, 0);
  DELETE FROM aol_control_ack;
  INSERT INTO aol_control_ack VALUES (1, 0, NULL, NULL, NULL, NULL);
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
    ELSE
      NULL; -- the proof-off request events change no flag
  END CASE;
END $$;

-- The runbook's psql commands, e.g. UPDATE aol_control_flags SET paused = true
-- WHERE id = 1, become events (via = sql, actor = session_user) in the same
-- transaction. The projection then rewrites the row with the event's version
-- and time, so the row is exactly what a rebuild would produce. An UPDATE that
-- flips no flag records nothing.
CREATE FUNCTION aol_control_flags_runbook() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  meta jsonb := aol_sql_metadata();
BEGIN
  IF TG_OP <> 'UPDATE' THEN
    RAISE EXCEPTION 'aol_control_flags has exactly one row (id = 1); % is refused', TG_OP
      USING ERRCODE = 'AOL01';
  END IF;
  IF NEW.id <> OLD.id OR NEW.version <> OLD.version
     OR NEW.updated_at_utc IS DISTINCT FROM OLD.updated_at_utc THEN
    RAISE EXCEPTION 'only paused, killed and proof_mode of aol_control_flags may be set directly'
      USING ERRCODE = 'AOL01';
  END IF;
  IF NEW.paused <> OLD.paused THEN
    PERFORM aol_append('control', NULL,
      CASE WHEN NEW.paused THEN 'ControlPaused' ELSE 'ControlResumed' END, '{}', meta);
  END IF;
  IF NEW.killed <> OLD.killed THEN
    PERFORM aol_append('control', NULL,
      CASE WHEN NEW.killed THEN 'ControlKilled' ELSE 'ControlRevived' END, '{}', meta);
  END IF;
  IF NEW.proof_mode <> OLD.proof_mode THEN
    PERFORM aol_append('control', NULL,
      CASE WHEN NEW.proof_mode THEN 'ProofModeEnabled' ELSE 'ProofModeDisabled' END, '{}', meta);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER aol_control_flags_runbook
  AFTER INSERT OR UPDATE OR DELETE ON aol_control_flags
  FOR EACH ROW WHEN (NOT aol_projecting())
  EXECUTE FUNCTION aol_control_flags_runbook();

CREATE TRIGGER aol_control_ack_guard
  AFTER INSERT OR UPDATE OR DELETE ON aol_control_ack
  FOR EACH ROW WHEN (NOT aol_projecting())
  EXECUTE FUNCTION aol_read_model_guard();

-- The safe default, as the first event of every log: proof mode on.
SELECT set_config('aol.projecting', 'on', true);
SELECT aol_reset_control();
SELECT set_config('aol.projecting', 'off', true);
SELECT aol_append('control', 0, 'ProofModeEnabled', '{}',
  jsonb_build_object('actor', 'aol-migrate', 'via', 'sql', 'reason', 'initial safe default: proof mode on'));
