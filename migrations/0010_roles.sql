-- Trust: database roles, a projection guard no session can switch off, the
-- actor taken from who authenticated, four-eyes and the test clock enforced
-- where every door meets. docs/security.md is the threat model.
--
-- Found by an attack with database credentials (issue 12): the read models'
-- guard rested on the session setting aol.projecting, which any session may
-- SET, so a runbook UPDATE under SET LOCAL aol.projecting = 'on' changed the
-- flags with no event; any role could call aol_append() with an actor of its
-- choosing; four-eyes lived only in the API; the health clock offset moved
-- the approval window in production, unrecorded.
--
-- Now every aol_ table and function belongs to the NOLOGIN role aol_owner
-- (aol_secure_objects(), sql/functions/roles.sql, run by the migrator).
-- Functions that write run SECURITY DEFINER as aol_owner with a pinned
-- search_path, and "projecting" means current_user = aol_owner: only code
-- running inside those functions is it, and no session can become it
-- without membership in aol_owner (which only the migrating role has).
-- Operators get exactly the runbook's column privileges; their statements
-- are still turned into events by the (now SECURITY DEFINER) triggers.
-- This file holds the roles and the tables' rights; the functions and
-- triggers are in sql/functions/ (roles.sql, events.sql, control.sql, health.sql).

-- The roles, cluster-wide, created once (CREATE ROLE has no IF NOT EXISTS;
-- two migrations racing on a fresh cluster both get here).
DO $$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['aol_owner', 'aol_auditor', 'aol_operator', 'aol_admin', 'aol_service'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN', r);
      EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL;
      END;
    END IF;
  END LOOP;
END $$;

-- Who is in whom: an admin is an operator, an operator and the service can
-- read what an auditor reads. The migrating role (on Neon the database owner:
-- CREATEROLE, not superuser; it holds ADMIN on the roles it created) joins
-- aol_owner so it can hand its objects over and apply later migrations, and
-- aol_service, so a deployment whose API and worker still use the owner's URL
-- (Neon's default) keeps working: as a member of aol_owner it could do all
-- of that anyway.
DO $$
DECLARE
  g record;
BEGIN
  FOR g IN SELECT * FROM (VALUES ('aol_auditor', 'aol_operator'), ('aol_operator', 'aol_admin'),
                                 ('aol_auditor', 'aol_service'), ('aol_owner', current_user::text),
                                 ('aol_service', current_user::text)) v(grp, member)
  LOOP
    IF g.member <> g.grp AND NOT pg_has_role(g.member, g.grp, 'MEMBER') THEN
      BEGIN
        EXECUTE format('GRANT %I TO %I', g.grp, g.member);
      EXCEPTION WHEN unique_violation OR duplicate_object THEN
        NULL; -- a concurrent migration granted it
      END;
    END IF;
  END LOOP;
  BEGIN
    EXECUTE format('GRANT USAGE, CREATE ON SCHEMA %I TO aol_owner', current_schema());
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO aol_auditor, aol_operator, aol_admin, aol_service', current_schema());
    -- PostgreSQL 14 lets every role create objects in public; nobody but the
    -- owner should be able to put a function or table beside ours.
    EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM PUBLIC', current_schema());
  EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'could not change the privileges of schema %: run this migration as its owner to keep other roles from creating objects in it', current_schema();
  END;
END $$;

-- Production-ness, recorded in the database (ProductionModeEntered when
-- aol migrate, the API or a worker runs with NODE_ENV=production;
-- ProductionModeCleared only by an admin): a read model of the control stream.
CREATE TABLE aol_deployment (
  id             integer     PRIMARY KEY CHECK (id = 1),
  production     boolean     NOT NULL,
  changed_at_utc timestamptz
);
INSERT INTO aol_deployment VALUES (1, false, NULL);

-- Operators: exactly the runbook's statements (their triggers append the
-- events); admins: the test clock outside production; the service stores
-- artifacts. The grants on functions are in sql/functions/roles.sql.
GRANT UPDATE (paused, killed, proof_mode) ON aol_control_flags TO aol_operator;
GRANT DELETE ON aol_lease TO aol_operator;
GRANT UPDATE (status) ON aol_actions TO aol_operator;
GRANT USAGE ON SEQUENCE aol_action_id_seq TO aol_operator;
GRANT UPDATE (offset_seconds) ON aol_clock TO aol_admin;
GRANT INSERT ON aol_artifacts TO aol_service;
