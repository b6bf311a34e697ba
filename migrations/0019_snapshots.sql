-- Snapshots of the replayed state (docs/events.md, SnapshotTaken): the state
-- a fold of the log reaches at a seq (src/history/replay.ts, ReplayerSnapshot),
-- stored as the exact JSON bytes whose sha256 the SnapshotTaken event records
-- in the hash-chained log, so the signed checkpoints cover every snapshot. A
-- replay at a point folds only the events after the nearest snapshot at or
-- before it, and uses a snapshot only if its bytes still hash to the sha256
-- its event recorded; else it falls back to the one before, or to seq 1.
--
-- Only aol_record_snapshot() writes the table (as aol_owner), and it runs for
-- the service role (aol_service: the API's periodic snapshots, and `aol events
-- snapshot` run with the service's URL). Nobody updates, deletes or truncates a
-- snapshot, a superuser included (short of disabling the triggers).
CREATE TABLE aol_snapshots (
  seq       bigint      PRIMARY KEY CHECK (seq > 0),
  state     bytea       NOT NULL,
  sha256    text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  event_seq bigint      NOT NULL UNIQUE,
  taken_at  timestamptz NOT NULL DEFAULT now()
);

-- The functions and triggers (aol_record_snapshot, the refusals) live in
-- sql/functions/history.sql.
