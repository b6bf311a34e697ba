-- Area: lease: the `lease` stream — aol_lease (zero or one row), aol_lease_epoch
-- (the last epoch ever issued: epochs never go back, also after the lease row
-- was deleted), the lease compare-and-set (acquire, renew, release, force
-- release) and the fence every worker write goes through.

-- The lease read models a rebuild starts from: no lease, epoch 0.
CREATE OR REPLACE FUNCTION aol_reset_lease() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM aol_lease;
  DELETE FROM aol_lease_epoch;
  INSERT INTO aol_lease_epoch VALUES (1, 0);
END $$;

-- How one lease event changes aol_lease and aol_lease_epoch.
CREATE OR REPLACE FUNCTION aol_apply_lease(e aol_events) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  CASE e.type
    WHEN 'LeaseAcquired' THEN
      DELETE FROM aol_lease;
      INSERT INTO aol_lease VALUES (e.data->>'owner', (e.data->>'epoch')::bigint,
        (e.data->>'acquired_at')::timestamptz, (e.data->>'acquired_at')::timestamptz,
        (e.data->>'expires_at')::timestamptz);
      UPDATE aol_lease_epoch SET epoch = greatest(epoch, (e.data->>'epoch')::bigint);
    WHEN 'LeaseRenewed' THEN
      UPDATE aol_lease SET renewed_at_utc = e.occurred_at, expires_at_utc = (e.data->>'expires_at')::timestamptz
       WHERE epoch = (e.data->>'epoch')::bigint;
    WHEN 'LeaseReleased', 'LeaseExpired', 'LeaseForceReleased' THEN
      DELETE FROM aol_lease WHERE epoch = (e.data->>'epoch')::bigint;
    ELSE
      NULL; -- FencedWriteRejected: an audit record only
  END CASE;
END $$;

-- Acquire the lease for p_owner if nobody holds a live one. Database time
-- only. Taking over an expired lease records LeaseExpired first. Every
-- acquisition raises the epoch by one. Returns the lease as it now stands and
-- whether p_owner holds it; `now` lets the caller time a retry.
CREATE OR REPLACE FUNCTION aol_lease_acquire(p_owner text, p_ttl_seconds double precision)
RETURNS TABLE (acquired boolean, owner text, epoch bigint, expires_at timestamptz, now timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
  l aol_lease;
  t timestamptz;
  v_epoch bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(7310001);
  t := clock_timestamp();
  SELECT * INTO l FROM aol_lease;
  IF FOUND AND l.expires_at_utc > t THEN
    RETURN QUERY SELECT l.owner = p_owner, l.owner, l.epoch, l.expires_at_utc, t;
    RETURN;
  END IF;
  IF FOUND THEN
    PERFORM aol_append('lease', NULL, 'LeaseExpired', jsonb_build_object('owner', l.owner, 'epoch', l.epoch,
      'expired_at', aol_iso(l.expires_at_utc), 'detected_by', p_owner), aol_worker_metadata(p_owner));
  END IF;
  SELECT le.epoch + 1 INTO v_epoch FROM aol_lease_epoch le;
  t := clock_timestamp();
  PERFORM aol_append('lease', NULL, 'LeaseAcquired', jsonb_build_object('owner', p_owner, 'epoch', v_epoch,
    'acquired_at', aol_iso(t), 'expires_at', aol_iso(t + make_interval(secs => p_ttl_seconds)),
    'ttl_seconds', p_ttl_seconds), aol_worker_metadata(p_owner));
  RETURN QUERY SELECT true, p_owner, v_epoch, t + make_interval(secs => p_ttl_seconds), t;
END $$;

-- Renew only a live lease of ours; NULL means it is lost (expired, released by
-- force, or taken over) and the caller must stop working at once. The
-- compare-and-set on the lease row is the fence; a renewal moves the row's
-- liveness columns (renewed_at_utc, expires_at_utc) and appends no event
-- (issue 15, docs/events.md "Liveness outside the log").
CREATE OR REPLACE FUNCTION aol_lease_renew(p_owner text, p_epoch bigint, p_ttl_seconds double precision)
RETURNS timestamptz LANGUAGE plpgsql AS $$
DECLARE
  t timestamptz;
  v_exp timestamptz;
BEGIN
  PERFORM pg_advisory_xact_lock(7310001);
  t := clock_timestamp();
  v_exp := t + make_interval(secs => p_ttl_seconds);
  UPDATE aol_lease SET renewed_at_utc = t, expires_at_utc = v_exp
   WHERE owner = p_owner AND epoch = p_epoch AND expires_at_utc > t;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  RETURN v_exp;
END $$;

CREATE OR REPLACE FUNCTION aol_lease_release(p_owner text, p_epoch bigint) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7310001);
  IF NOT EXISTS (SELECT 1 FROM aol_lease WHERE owner = p_owner AND epoch = p_epoch) THEN
    RETURN false;
  END IF;
  PERFORM aol_append('lease', NULL, 'LeaseReleased',
    jsonb_build_object('owner', p_owner, 'epoch', p_epoch), aol_worker_metadata(p_owner));
  RETURN true;
END $$;

-- An operator's force release (REST, CLI). NULL when nobody holds the lease.
CREATE OR REPLACE FUNCTION aol_lease_force_release(p_metadata jsonb) RETURNS aol_events LANGUAGE plpgsql AS $$
DECLARE
  l aol_lease;
BEGIN
  PERFORM pg_advisory_xact_lock(7310001);
  SELECT * INTO l FROM aol_lease;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  RETURN aol_append('lease', NULL, 'LeaseForceReleased',
    jsonb_build_object('owner', l.owner, 'epoch', l.epoch), p_metadata);
END $$;

-- The fence: is (p_owner, p_epoch) the live lease right now? If not, the
-- rejection is recorded (FencedWriteRejected) and the caller must commit that
-- and write nothing else. Call it in the same transaction as the write, after
-- the append lock, so no takeover can slip in between the check and the write.
CREATE OR REPLACE FUNCTION aol_fence(p_owner text, p_epoch bigint, p_attempted text, p_action_id bigint)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  l aol_lease;
BEGIN
  PERFORM pg_advisory_xact_lock(7310001);
  SELECT * INTO l FROM aol_lease;
  IF FOUND AND l.owner = p_owner AND l.epoch = p_epoch AND l.expires_at_utc > clock_timestamp() THEN
    RETURN true;
  END IF;
  PERFORM aol_append('lease', NULL, 'FencedWriteRejected', jsonb_strip_nulls(jsonb_build_object(
    'worker', p_owner, 'epoch', p_epoch, 'current_epoch', l.epoch, 'action_id', p_action_id,
    'attempted', p_attempted)), aol_worker_metadata(p_owner));
  RETURN false;
END $$;

-- Runbook: DELETE FROM aol_lease; → LeaseForceReleased (via sql), NOTIFY'd so a
-- standby takes over at once.
CREATE OR REPLACE FUNCTION aol_lease_runbook() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'DELETE' THEN
    RAISE EXCEPTION 'aol_lease is a read model; only DELETE FROM aol_lease (force release) is allowed'
      USING ERRCODE = 'AOL01';
  END IF;
  PERFORM aol_append('lease', NULL, 'LeaseForceReleased',
    jsonb_build_object('owner', OLD.owner, 'epoch', OLD.epoch), aol_sql_metadata());
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS aol_lease_lock_first ON aol_lease;
CREATE TRIGGER aol_lease_lock_first BEFORE INSERT OR UPDATE OR DELETE ON aol_lease
  FOR EACH STATEMENT WHEN (current_user <> 'aol_owner'::name) EXECUTE FUNCTION aol_take_append_lock();

DROP TRIGGER IF EXISTS aol_lease_runbook ON aol_lease;
CREATE TRIGGER aol_lease_runbook AFTER INSERT OR UPDATE OR DELETE ON aol_lease
  FOR EACH ROW WHEN (current_user <> 'aol_owner'::name) EXECUTE FUNCTION aol_lease_runbook();

DROP TRIGGER IF EXISTS aol_lease_no_truncate ON aol_lease;
CREATE TRIGGER aol_lease_no_truncate BEFORE TRUNCATE ON aol_lease
  FOR EACH STATEMENT WHEN (current_user <> 'aol_owner'::name) EXECUTE FUNCTION aol_read_model_guard();

DROP TRIGGER IF EXISTS aol_lease_epoch_guard ON aol_lease_epoch;
CREATE TRIGGER aol_lease_epoch_guard AFTER INSERT OR UPDATE OR DELETE ON aol_lease_epoch
  FOR EACH ROW WHEN (current_user <> 'aol_owner'::name) EXECUTE FUNCTION aol_read_model_guard();

DROP TRIGGER IF EXISTS aol_lease_epoch_no_truncate ON aol_lease_epoch;
CREATE TRIGGER aol_lease_epoch_no_truncate BEFORE TRUNCATE ON aol_lease_epoch
  FOR EACH STATEMENT WHEN (current_user <> 'aol_owner'::name) EXECUTE FUNCTION aol_read_model_guard();
