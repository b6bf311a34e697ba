import { Queryable } from '../db/db.js';
import { EventMetadata, Stored } from '../events/event.types.js';
import { EventRow, toStoredEvent } from '../events/event-store.js';
import { LeaseStatus, leaseStatus, shownTtl } from './lease.decider.js';

/** The lease as health and operators see it; TTL on database time, status by lease.decider.ts. */
export type LeaseView = Readonly<{
  owner: string | null;
  epoch: number | null;
  acquired_at: string | null;
  renewed_at: string | null;
  expires_at: string | null;
  ttl_seconds: number | null;
  status: LeaseStatus;
  last_epoch: number;
}>;

export async function selectLease(db: Queryable): Promise<LeaseView> {
  const { rows } = await db.query<{
    owner: string | null;
    epoch: number | null;
    acquired_at_utc: Date | null;
    renewed_at_utc: Date | null;
    expires_at_utc: Date | null;
    ttl: number | null;
    last_epoch: number;
  }>(
    `SELECT l.owner, l.epoch, l.acquired_at_utc, l.renewed_at_utc, l.expires_at_utc,
            extract(epoch FROM l.expires_at_utc - clock_timestamp())::float8 AS ttl, e.epoch AS last_epoch
       FROM aol_lease_epoch e LEFT JOIN aol_lease l ON true`,
  );
  const r = rows[0];
  return {
    owner: r.owner,
    epoch: r.epoch,
    acquired_at: r.acquired_at_utc?.toISOString() ?? null,
    renewed_at: r.renewed_at_utc?.toISOString() ?? null,
    expires_at: r.expires_at_utc?.toISOString() ?? null,
    ttl_seconds: shownTtl(r.ttl),
    status: leaseStatus(r.owner !== null, r.ttl),
    last_epoch: r.last_epoch,
  };
}

export type AcquireResult = Readonly<{
  acquired: boolean;
  owner: string;
  epoch: number;
  expiresAt: Date;
  now: Date;
}>;

export async function acquireLease(
  db: Queryable,
  owner: string,
  ttlSeconds: number,
): Promise<AcquireResult> {
  const { rows } = await db.query<{
    acquired: boolean;
    owner: string;
    epoch: number;
    expires_at: Date;
    now: Date;
  }>('SELECT * FROM aol_lease_acquire($1, $2)', [owner, ttlSeconds]);
  const r = rows[0];
  return {
    acquired: r.acquired,
    owner: r.owner,
    epoch: r.epoch,
    expiresAt: r.expires_at,
    now: r.now,
  };
}

/** The new expiry, or null when the lease is no longer ours. */
export async function renewLease(
  db: Queryable,
  owner: string,
  epoch: number,
  ttlSeconds: number,
): Promise<Date | null> {
  const { rows } = await db.query<{ e: Date | null }>('SELECT aol_lease_renew($1, $2, $3) AS e', [
    owner,
    epoch,
    ttlSeconds,
  ]);
  return rows[0].e;
}

export async function releaseLease(db: Queryable, owner: string, epoch: number): Promise<boolean> {
  const { rows } = await db.query<{ ok: boolean }>('SELECT aol_lease_release($1, $2) AS ok', [
    owner,
    epoch,
  ]);
  return rows[0].ok;
}

/** An operator's force release; null when nobody holds the lease. */
export async function forceReleaseLease(
  db: Queryable,
  metadata: EventMetadata,
): Promise<Stored<'LeaseForceReleased'> | null> {
  const { rows } = await db.query<EventRow>('SELECT * FROM aol_lease_force_release($1)', [
    JSON.stringify(metadata),
  ]);
  if (rows[0]?.seq == null) return null;
  const e = toStoredEvent(rows[0]);
  if (e.type !== 'LeaseForceReleased')
    throw new Error(`aol_lease_force_release returned ${e.type}`);
  return e;
}

/**
 * The fence, in the caller's transaction: true when (owner, epoch) holds the
 * live lease. When false a FencedWriteRejected event has been appended; the
 * caller must commit it and write nothing else.
 */
export async function fence(
  client: Queryable,
  owner: string,
  epoch: number,
  attempted: string,
  actionId: number | null = null,
): Promise<boolean> {
  const { rows } = await client.query<{ ok: boolean }>('SELECT aol_fence($1, $2, $3, $4) AS ok', [
    owner,
    epoch,
    attempted,
    actionId,
  ]);
  return rows[0].ok;
}
