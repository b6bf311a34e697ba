-- Area: roles: ownership and privileges (docs/security.md). Applied last: the
-- migrator then runs aol_secure_objects(), which hands every aol_ object to
-- aol_owner with the standard grants; the extra grants below are the roles'
-- doors beyond those. Table privileges (the runbook's column grants) stay in
-- migration 0010, where the tables' rights were first given.

-- Hand every aol_ table, sequence and function to aol_owner; functions run
-- SECURITY DEFINER with the search path pinned (pg_temp last, so a session's
-- temporary table can't stand in for ours), except the pure helpers the
-- planner must inline.
-- The migrator calls it after the function files on every migrate.
CREATE OR REPLACE FUNCTION aol_secure_objects() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  r record;
  v_schema text := current_schema();
BEGIN
  FOR r IN SELECT c.oid::regclass AS rel, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = v_schema AND c.relname LIKE 'aol\_%' AND c.relname <> 'aol_migrations'
              AND c.relkind IN ('r', 'p', 'v', 'S') LOOP
    EXECUTE format('ALTER %s %s OWNER TO aol_owner', CASE WHEN r.relkind = 'S' THEN 'SEQUENCE'
      WHEN r.relkind = 'v' THEN 'VIEW' ELSE 'TABLE' END, r.rel);
    EXECUTE format('REVOKE ALL ON %s FROM PUBLIC', r.rel);
    EXECUTE format('GRANT SELECT ON %s TO aol_auditor', r.rel);
    IF r.relkind = 'S' THEN
      EXECUTE format('GRANT USAGE ON SEQUENCE %s TO aol_service', r.rel);
    END IF;
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS fn, p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = v_schema AND p.proname LIKE 'aol\_%' AND p.proname <> 'aol_secure_objects' LOOP
    EXECUTE format('ALTER FUNCTION %s OWNER TO aol_owner', r.fn);
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', r.fn);
    IF r.proname NOT IN ('aol_append_raw') THEN
      EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO aol_service', r.fn);
    END IF;
    IF r.proname NOT IN ('aol_event_content', 'aol_iso', 'aol_iso_ms', 'aol_action_status',
                         'aol_action_message', 'aol_action_level', 'aol_worker_metadata', 'aol_operator_event_types') THEN
      EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = %I, pg_temp', r.fn, v_schema);
    END IF;
  END LOOP;
  IF to_regclass('aol_migrations') IS NOT NULL THEN
    EXECUTE 'GRANT SELECT ON aol_migrations TO aol_auditor';
  END IF;
END $$;
REVOKE ALL ON FUNCTION aol_secure_objects() FROM PUBLIC;

-- Auditors read and verify.
GRANT EXECUTE ON FUNCTION aol_now(), aol_is_production(), aol_health_inputs(), aol_iso(timestamptz),
  aol_event_content(bigint, text, integer, text, jsonb, jsonb, timestamptz), aol_action_status(text),
  aol_action_message(text, jsonb), aol_action_level(text), aol_operator_event_types() TO aol_auditor;
-- Auditors (and so operators and admins) read the scoped pauses through the
-- same helper the service uses (aol_secure_objects revokes it from PUBLIC).
GRANT EXECUTE ON FUNCTION aol_iso_ms(timestamptz) TO aol_auditor;
-- Auditors see worker presence (`aol workers`, `aol health`; migration 0016).
GRANT EXECUTE ON FUNCTION aol_worker_presence() TO aol_auditor;
-- Operators: the aol CLI's commands, whose events carry their login role.
GRANT EXECUTE ON FUNCTION aol_append(text, integer, text, jsonb, jsonb), aol_append_batch(jsonb),
  aol_append_many(text[], integer[], text[], jsonb[], jsonb[]) TO aol_operator;
-- Admins: also approval (in aol_append_many), the CLI's force release,
-- clearing production, and the test clock outside production.
GRANT EXECUTE ON FUNCTION aol_lease_force_release(jsonb), aol_clear_production(text, text),
  aol_approve_proof_off(text, text) TO aol_admin;
-- Retention (issue 15, migration 0020): admins archive old partitions of the
-- log (aol events archive); auditors see the partitions and their width.
GRANT EXECUTE ON FUNCTION aol_archive_segment(jsonb, text, text) TO aol_admin;
GRANT EXECUTE ON FUNCTION aol_events_partitions(), aol_events_partition_rows() TO aol_auditor;

-- Retired: the triggers' condition is written out (events.sql, "Projecting");
-- dropped here, after every file has replaced the triggers that called it.
DROP FUNCTION IF EXISTS aol_projecting();
