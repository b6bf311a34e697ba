-- Set-based appends and projections (found by the throughput, append and
-- replay benchmarks: one append and one PL/pgSQL projection per event made a
-- batch of 200 claims cost 200 of them, and a rebuild of 1,000,000 events
-- quadratic). No table: the batch append, the set-based projection of
-- actions and ticks and the chunked rebuild live in sql/functions/events.sql,
-- actions.sql and ticks.sql; docs/benchmarks.md has the figures.
SELECT 1;
