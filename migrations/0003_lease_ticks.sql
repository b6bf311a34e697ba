-- The lease (fencing epochs) and the tick ledger. The lease functions, the
-- fence and the guards: sql/functions/lease.sql and ticks.sql.

CREATE TABLE aol_lease (
  owner           text        NOT NULL,
  epoch           bigint      NOT NULL,
  acquired_at_utc timestamptz NOT NULL,
  renewed_at_utc  timestamptz NOT NULL,
  expires_at_utc  timestamptz NOT NULL
);
-- zero or one row
CREATE UNIQUE INDEX aol_lease_single_row ON aol_lease ((true));

-- The last epoch ever issued: epochs never go back, also after the lease row
-- was deleted.
CREATE TABLE aol_lease_epoch (
  id    integer PRIMARY KEY CHECK (id = 1),
  epoch bigint  NOT NULL
);

CREATE TABLE aol_tick_ledger (
  seq                bigint      PRIMARY KEY, -- the TickRecorded event
  started_at_utc     timestamptz NOT NULL,
  finished_at_utc    timestamptz NOT NULL,
  status             text        NOT NULL CHECK (status IN ('SUCCESS', 'PARTIAL', 'FAIL', 'PAUSED')),
  actions_attempted  integer     NOT NULL,
  actions_succeeded  integer     NOT NULL,
  notes              text        NOT NULL,
  worker             text        NOT NULL,
  epoch              bigint      NOT NULL
);
CREATE INDEX aol_tick_ledger_finished ON aol_tick_ledger (finished_at_utc DESC);

-- The empty state (as aol_reset_lease() writes it).
INSERT INTO aol_lease_epoch VALUES (1, 0);
