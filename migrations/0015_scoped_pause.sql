-- Scoped, expiring pauses (issue 16): pause some action types, or all, until
-- a deadline, without touching the runbook's global pause (aol_control_flags
-- .paused and its SQL stay exactly as they are).
--
-- Both events live on the control stream and change the control version, so
-- the worker acknowledges them like any flag change. The claim skips the
-- paused types in the same statement that claims, and ends every pause whose
-- deadline has passed on the database clock (aol_now(), which tests and drills
-- shift through aol_clock) first, with a ScopedPauseEnded event: a deadline is
-- honoured exactly at the next claim, and the end is in the log. The
-- projection (aol_apply_control), the guard and aol_expire_scoped_pauses():
-- sql/functions/control.sql; the claim: sql/functions/actions.sql.

CREATE TABLE aol_scoped_pauses (
  pause_id       text        PRIMARY KEY,
  action_types   text[],     -- NULL: every type
  until_utc      timestamptz, -- NULL: until resumed
  reason         text,
  started_by     text        NOT NULL,
  started_at_utc timestamptz NOT NULL,
  ended_at_utc   timestamptz,
  expired        boolean,    -- true: ended by its deadline; false: resumed by someone
  ended_by       text
);
CREATE INDEX aol_scoped_pauses_active ON aol_scoped_pauses (until_utc) WHERE ended_at_utc IS NULL;
