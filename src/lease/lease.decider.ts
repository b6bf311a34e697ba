import type { LeaseEvent } from '../events/event.types.js';
import { assertNever } from '../events/event.types.js';

/**
 * The lease stream's rules, as pure functions (docs/architecture.md, "Which
 * rules live where"). PostgreSQL does the compare-and-set (aol_lease_acquire,
 * _renew, _release, the fence) because it must hold under races; what the
 * lease *is* at a moment, and what a holder makes of a lease event, is here.
 */
export type LeaseHolder = Readonly<{ owner: string; epoch: number; expires_at: string }>;
export type LeaseState = Readonly<{ holder: LeaseHolder | null; lastEpoch: number }>;
export type LeaseStatus = 'valid' | 'expired' | 'none';

export const initialLeaseState = (): LeaseState => ({ holder: null, lastEpoch: 0 });

/** Fold one lease event, as the aol_lease projection and replay do. */
export function evolveLease(s: LeaseState, e: LeaseEvent): LeaseState {
  switch (e.type) {
    case 'LeaseAcquired':
      return {
        holder: { owner: e.data.owner, epoch: e.data.epoch, expires_at: e.data.expires_at },
        lastEpoch: Math.max(s.lastEpoch, e.data.epoch),
      };
    case 'LeaseRenewed':
      return s.holder ? { ...s, holder: { ...s.holder, expires_at: e.data.expires_at } } : s;
    case 'LeaseReleased':
    case 'LeaseExpired':
    case 'LeaseForceReleased':
      // the database emits these only for the live epoch (aol_lease_release, the fence)
      return { ...s, holder: null };
    case 'FencedWriteRejected':
      return s;
    default:
      return assertNever(e);
  }
}

/** Seconds the lease has left at `now` (negative: expired that long ago); null without a holder. */
export function leaseTtlSeconds(expiresAt: string | Date | null, now: Date): number | null {
  if (expiresAt === null) return null;
  return (new Date(expiresAt).getTime() - now.getTime()) / 1000;
}

/** The status health and operators see: none without a holder, valid while time is left. */
export function leaseStatus(hasHolder: boolean, ttlSeconds: number | null): LeaseStatus {
  if (!hasHolder) return 'none';
  return (ttlSeconds ?? 0) > 0 ? 'valid' : 'expired';
}

/** The TTL as shown: never negative, one decimal. */
export function shownTtl(ttlSeconds: number | null): number | null {
  return ttlSeconds === null ? null : Math.max(0, Math.round(ttlSeconds * 10) / 10);
}

/** What a worker makes of a lease event: its term is lost, a standby may take over, or nothing. */
export type LeaseReaction =
  | Readonly<{ kind: 'lost'; why: string }>
  | Readonly<{ kind: 'freed' }>
  | Readonly<{ kind: 'none' }>;

/**
 * `heldEpoch`: the epoch this worker holds, or null when it is a standby. A
 * holder loses its term when another epoch is acquired or its own is force
 * released or expired; a standby wakes when the lease is freed.
 */
export function reactToLease(
  heldEpoch: number | null,
  e: LeaseEvent,
  by: Readonly<{ actor: string; via: string }>,
): LeaseReaction {
  switch (e.type) {
    case 'LeaseAcquired':
      return heldEpoch !== null && e.data.epoch !== heldEpoch
        ? { kind: 'lost', why: `epoch ${e.data.epoch} acquired by ${e.data.owner}` }
        : { kind: 'none' };
    case 'LeaseForceReleased':
    case 'LeaseExpired':
      if (heldEpoch === null) return { kind: 'freed' };
      if (e.data.epoch !== heldEpoch) return { kind: 'none' };
      return {
        kind: 'lost',
        why:
          e.type === 'LeaseForceReleased'
            ? `force-released by ${by.actor} via ${by.via}`
            : 'expired',
      };
    case 'LeaseReleased':
      return heldEpoch === null ? { kind: 'freed' } : { kind: 'none' };
    case 'LeaseRenewed':
    case 'FencedWriteRejected':
      return { kind: 'none' };
    default:
      return assertNever(e);
  }
}
