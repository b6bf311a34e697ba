-- The event store: the one source of truth. Everything else is projected from it.
--
-- This file holds the table; the append (aol_append_raw/aol_append_many and
-- their wrappers), the hash content, the append-only triggers, the projection
-- dispatcher and the rebuild live in sql/functions/events.sql, applied after
-- every migration (sql/functions/README.md). Ordering: appends are serialised
-- by a transaction-scoped advisory lock, so seq is gapless and commit-ordered
-- and the hash chain well defined (docs/architecture.md, "Where SQL lives").

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
