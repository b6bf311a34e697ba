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
-- No function exists while a fresh database migrates, so this migration
-- calls none: the partitions for the rows already there are made with plain
-- DDL. On an upgrade, the functions whose signature names the row type
-- aol_events are dropped before the table is replaced; sql/functions/
-- (events.sql, control.sql, lease.sql, …) makes them again on the new row
-- type, with the triggers of the table and of each partition
-- (aol_events_guard_partitions()).

ALTER TABLE aol_events RENAME TO aol_events_unpartitioned;
ALTER INDEX aol_events_pkey RENAME TO aol_events_unpartitioned_pkey;
ALTER INDEX aol_events_stream_stream_version_key RENAME TO aol_events_unpartitioned_stream_version_key;
ALTER INDEX aol_events_stream_seq RENAME TO aol_events_unpartitioned_stream_seq;
ALTER INDEX aol_events_type_seq RENAME TO aol_events_unpartitioned_type_seq;
ALTER INDEX aol_events_occurred_at RENAME TO aol_events_unpartitioned_occurred_at;
ALTER INDEX aol_events_alert_name RENAME TO aol_events_unpartitioned_alert_name;

-- Functions whose signature names the old row type (an upgraded database's):
-- dropped here, made again by sql/functions/ on the new one. Views and
-- triggers on the old table go with it below (sql/functions/ makes them again).
DO $$
DECLARE
  f record;
BEGIN
  FOR f IN SELECT p.oid::regprocedure::text AS sig FROM pg_proc p
            WHERE 'aol_events_unpartitioned'::regtype = ANY (p.proargtypes::oid[])
               OR p.prorettype = 'aol_events_unpartitioned'::regtype LOOP
    EXECUTE format('DROP FUNCTION %s CASCADE', f.sig);
  END LOOP;
END $$;

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
  CONSTRAINT aol_events_stream_check CHECK (stream ~ '^(control|lease|tick|log|alert|schedule|action:[0-9]+)$')
) PARTITION BY RANGE (seq);
CREATE INDEX aol_events_stream_version ON aol_events (stream, stream_version);
CREATE INDEX aol_events_stream_seq ON aol_events (stream, seq);
CREATE INDEX aol_events_type_seq ON aol_events (type, seq);
CREATE INDEX aol_events_occurred_at ON aol_events (occurred_at);
CREATE INDEX aol_events_alert_name ON aol_events ((data->>'alert'), seq) WHERE stream = 'alert';

-- The upper bound (exclusive) of the last partition: the append reads it to
-- know whether a partition must be made ready. Only aol_owner may write it
-- (no grant); a wrong value makes an append fail, it can't remove an event.
CREATE TABLE aol_events_horizon (
  id    integer PRIMARY KEY CHECK (id = 1),
  upper bigint  NOT NULL
);

-- The partitions for what the log holds and one whole partition beyond it
-- (what aol_events_ensure_partitions() keeps; plain DDL, no function), named
-- and bounded as aol_events_create_partition() makes them.
DO $$
DECLARE
  v_head bigint := coalesce((SELECT max(seq) FROM aol_events_unpartitioned), 0);
  v_set text := coalesce(current_setting('aol.events_partition_rows', true), '');
  v_width bigint;
  v_hi bigint := 1;
  v_name text;
BEGIN
  v_width := CASE WHEN v_set ~ '^[0-9]{1,10}$' THEN greatest(10, least(1000000000, v_set::bigint)) ELSE 100000 END;
  WHILE v_hi <= v_head + v_width LOOP
    v_name := format('aol_events_%s', lpad(v_hi::text, 12, '0'));
    EXECUTE format('CREATE TABLE %I PARTITION OF aol_events FOR VALUES FROM (%s) TO (%s)', v_name, v_hi, v_hi + v_width);
    EXECUTE format('REVOKE ALL ON %I FROM PUBLIC', v_name);
    v_hi := v_hi + v_width;
  END LOOP;
  INSERT INTO aol_events_horizon VALUES (1, v_hi);
END $$;
INSERT INTO aol_events SELECT * FROM aol_events_unpartitioned ORDER BY seq;
DROP TABLE aol_events_unpartitioned CASCADE;
