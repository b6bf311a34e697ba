-- The event store: the one source of truth. Everything else is projected from it.
--
-- Ordering: appends are serialised by a transaction-scoped advisory lock taken
-- inside aol_append(). The lock is held until the appending transaction commits,
-- and a transaction becomes visible before its locks are released, so the next
-- appender can only assign seq + 1 after seq is already visible. Readers that
-- page by "seq > last seen" therefore never miss an event that commits later with
-- a lower seq, and seq has no gaps. The same serial order is what makes the hash
-- chain well defined. See docs/architecture.md for the trade-off.

CREATE TABLE aol_events (
  seq            bigint      PRIMARY KEY,
  stream         text        NOT NULL CHECK (stream ~ '^(control|lease|tick|action:[0-9]+)$'),
  stream_version integer     NOT NULL CHECK (stream_version > 0),
  type           text        NOT NULL,
  data           jsonb       NOT NULL,
  metadata       jsonb       NOT NULL,
  occurred_at    timestamptz NOT NULL,
  prev_hash      text        NOT NULL,
  hash           text        NOT NULL,
  UNIQUE (stream, stream_version)
);
CREATE INDEX aol_events_stream_seq ON aol_events (stream, seq);
CREATE INDEX aol_events_type_seq ON aol_events (type, seq);
CREATE INDEX aol_events_occurred_at ON aol_events (occurred_at);

-- Append-only, for every role: only a superuser disabling the triggers can
-- change history, and aol events verify finds that.
CREATE FUNCTION aol_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'aol_events is append-only: % refused', TG_OP
    USING ERRCODE = 'AOL01';
END $$;
CREATE TRIGGER aol_events_no_update BEFORE UPDATE OR DELETE ON aol_events
  FOR EACH ROW EXECUTE FUNCTION aol_events_refuse_change();
CREATE TRIGGER aol_events_no_truncate BEFORE TRUNCATE ON aol_events
  FOR EACH STATEMENT EXECUTE FUNCTION aol_events_refuse_change();

-- Read models are written only by projections (aol_apply); a direct write that
-- no runbook trigger turns into an event is refused, so no table drifts from
-- the log.
CREATE FUNCTION aol_read_model_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is a read model projected from aol_events; direct % is refused',
    TG_TABLE_NAME, TG_OP USING ERRCODE = 'AOL01';
END $$;

-- The canonical content an event's hash covers. jsonb's text form is
-- deterministic (keys sorted, whitespace normalised), so the verifier can ask
-- Postgres for the same text and hash it independently in Node.
CREATE FUNCTION aol_event_content(
  p_seq bigint, p_stream text, p_version integer, p_type text,
  p_data jsonb, p_metadata jsonb, p_occurred_at timestamptz
) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT p_seq::text || '|' || p_stream || '|' || p_version::text || '|' || p_type || '|'
      || p_data::text || '|' || p_metadata::text || '|'
      || to_char(p_occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

-- Projections. Each area's migration replaces its aol_apply_<area>() (how an
-- event changes its read models) and aol_reset_<area>() (the empty read models
-- a rebuild starts from). aol_apply() runs inside aol_append(), so every writer
-- (Node, the runbook triggers, a rebuild) projects through the same code and a
-- read model is always in step with the log.
CREATE FUNCTION aol_apply_control(e aol_events) RETURNS void LANGUAGE plpgsql AS $$ BEGIN END $$;
CREATE FUNCTION aol_apply_lease(e aol_events) RETURNS void LANGUAGE plpgsql AS $$ BEGIN END $$;
CREATE FUNCTION aol_apply_tick(e aol_events) RETURNS void LANGUAGE plpgsql AS $$ BEGIN END $$;
CREATE FUNCTION aol_apply_action(e aol_events) RETURNS void LANGUAGE plpgsql AS $$ BEGIN END $$;
CREATE FUNCTION aol_reset_control() RETURNS void LANGUAGE plpgsql AS $$ BEGIN END $$;
CREATE FUNCTION aol_reset_lease() RETURNS void LANGUAGE plpgsql AS $$ BEGIN END $$;
CREATE FUNCTION aol_reset_tick() RETURNS void LANGUAGE plpgsql AS $$ BEGIN END $$;
CREATE FUNCTION aol_reset_action() RETURNS void LANGUAGE plpgsql AS $$ BEGIN END $$;

CREATE FUNCTION aol_apply(e aol_events) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('aol.projecting', 'on', true);
  IF e.stream = 'control' THEN PERFORM aol_apply_control(e);
  ELSIF e.stream = 'lease' THEN PERFORM aol_apply_lease(e);
  ELSIF e.stream = 'tick' THEN PERFORM aol_apply_tick(e);
  ELSE PERFORM aol_apply_action(e);
  END IF;
  PERFORM set_config('aol.projecting', 'off', true);
END $$;

-- Rebuild every read model from the log, in one transaction. Holding the append
-- lock keeps writers out, so the result is the state as of the last event.
CREATE FUNCTION aol_rebuild() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  e aol_events;
  n bigint := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(7310001);
  PERFORM set_config('aol.projecting', 'on', true);
  PERFORM aol_reset_control();
  PERFORM aol_reset_lease();
  PERFORM aol_reset_tick();
  PERFORM aol_reset_action();
  FOR e IN SELECT * FROM aol_events ORDER BY seq LOOP
    PERFORM aol_apply(e);
    n := n + 1;
  END LOOP;
  PERFORM set_config('aol.projecting', 'off', true);
  RETURN n;
END $$;

-- Append one event. p_expected is the stream version the caller decided on
-- (NULL: any). A mismatch raises AOL09, which callers map to a 409.
CREATE FUNCTION aol_append(
  p_stream text, p_expected integer, p_type text, p_data jsonb, p_metadata jsonb
) RETURNS aol_events LANGUAGE plpgsql AS $$
DECLARE
  v_current integer;
  v_head    aol_events;
  e         aol_events;
BEGIN
  PERFORM pg_advisory_xact_lock(7310001);
  SELECT stream_version INTO v_current FROM aol_events
   WHERE stream = p_stream ORDER BY stream_version DESC LIMIT 1;
  v_current := coalesce(v_current, 0);
  IF p_expected IS NOT NULL AND p_expected <> v_current THEN
    RAISE EXCEPTION 'stream % is at version %, expected %', p_stream, v_current, p_expected
      USING ERRCODE = 'AOL09';
  END IF;
  SELECT * INTO v_head FROM aol_events ORDER BY seq DESC LIMIT 1;
  e.seq := coalesce(v_head.seq, 0) + 1;
  e.prev_hash := coalesce(v_head.hash, repeat('0', 64));
  e.stream := p_stream;
  e.stream_version := v_current + 1;
  e.type := p_type;
  e.data := coalesce(p_data, '{}'::jsonb);
  e.metadata := coalesce(p_metadata, '{}'::jsonb);
  e.occurred_at := clock_timestamp();
  e.hash := encode(sha256(convert_to(e.prev_hash || aol_event_content(
    e.seq, e.stream, e.stream_version, e.type, e.data, e.metadata, e.occurred_at), 'UTF8')), 'hex');
  INSERT INTO aol_events VALUES (e.*);
  PERFORM aol_apply(e);
  -- Delivered at commit, never for a rolled-back append. Only a pointer:
  -- consumers re-read the table from their last seq.
  PERFORM pg_notify('aol_events', json_build_object('stream', e.stream, 'seq', e.seq, 'type', e.type)::text);
  RETURN e;
END $$;

-- Append several events in one round trip, in array order. Each element:
-- {stream, expected_version?, type, data, metadata}.
CREATE FUNCTION aol_append_batch(p_events jsonb) RETURNS SETOF aol_events LANGUAGE plpgsql AS $$
DECLARE
  x jsonb;
BEGIN
  FOR x IN SELECT value FROM jsonb_array_elements(p_events) LOOP
    RETURN NEXT aol_append(x->>'stream', (x->>'expected_version')::integer, x->>'type',
                           x->'data', x->'metadata');
  END LOOP;
END $$;

-- Who did it, for rows changed by runbook SQL: the database session user, via sql.
CREATE FUNCTION aol_sql_metadata() RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'actor', session_user::text,
    'via', 'sql',
    'reason', coalesce(nullif(current_setting('aol.reason', true), ''), 'runbook SQL'))
$$;

-- True while aol_apply() writes a read model, so the runbook triggers on those
-- tables can tell a projection write from an operator's direct SQL.
CREATE FUNCTION aol_projecting() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT coalesce(current_setting('aol.projecting', true), '') = 'on'
$$;
