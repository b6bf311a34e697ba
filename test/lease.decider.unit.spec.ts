import { describe, expect, it } from '@jest/globals';
import {
  evolveLease,
  initialLeaseState,
  leaseStatus,
  leaseTtlSeconds,
  reactToLease,
  shownTtl,
} from '../src/lease/lease.decider.js';
import type { LeaseEvent } from '../src/events/event.types.js';

const by = { actor: 'alice', via: 'cli' };
const acquired = (epoch: number, owner = 'w1'): LeaseEvent => ({
  type: 'LeaseAcquired',
  data: { owner, epoch, acquired_at: 't0', expires_at: 't1', ttl_seconds: 30 },
});

describe('lease decider: status and TTL (given / when / then)', () => {
  const now = new Date('2026-01-01T00:00:10Z');

  it('given no holder, then none and no TTL', () => {
    expect(leaseTtlSeconds(null, now)).toBeNull();
    expect(leaseStatus(false, null)).toBe('none');
  });

  it('given a holder with time left, then valid with the TTL to one decimal', () => {
    const ttl = leaseTtlSeconds('2026-01-01T00:00:22.349Z', now);
    expect(leaseStatus(true, ttl)).toBe('valid');
    expect(shownTtl(ttl)).toBe(12.3);
  });

  it('given a holder past its expiry, then expired and a TTL shown as 0', () => {
    const ttl = leaseTtlSeconds('2026-01-01T00:00:05Z', now);
    expect(ttl).toBe(-5);
    expect(leaseStatus(true, ttl)).toBe('expired');
    expect(shownTtl(ttl)).toBe(0);
  });

  it('given a holder expiring this very moment, then expired', () => {
    expect(leaseStatus(true, leaseTtlSeconds(now, now))).toBe('expired');
  });
});

describe('lease decider: evolve', () => {
  it('given events of a term, when folded, then holder and last epoch follow', () => {
    let s = evolveLease(initialLeaseState(), acquired(1));
    expect(s).toEqual({ holder: { owner: 'w1', epoch: 1, expires_at: 't1' }, lastEpoch: 1 });
    s = evolveLease(s, { type: 'LeaseRenewed', data: { owner: 'w1', epoch: 1, expires_at: 't2' } });
    expect(s.holder?.expires_at).toBe('t2');
    s = evolveLease(s, {
      type: 'FencedWriteRejected',
      data: { worker: 'w0', epoch: 0, current_epoch: 1, attempted: 'claim' },
    });
    expect(s.holder?.epoch).toBe(1);
    s = evolveLease(s, { type: 'LeaseReleased', data: { owner: 'w1', epoch: 1 } });
    expect(s).toEqual({ holder: null, lastEpoch: 1 });
    s = evolveLease(s, { type: 'LeaseRenewed', data: { owner: 'w1', epoch: 1, expires_at: 't3' } });
    expect(s.holder).toBeNull();
  });
});

describe('lease decider: a worker reacts to a lease event (given / when / then)', () => {
  it('given a holder of epoch 3, when epoch 4 is acquired, then its term is lost', () => {
    expect(reactToLease(3, acquired(4, 'w2'), by)).toEqual({
      kind: 'lost',
      why: 'epoch 4 acquired by w2',
    });
  });

  it('given a holder of epoch 3, when its own acquisition arrives, then nothing', () => {
    expect(reactToLease(3, acquired(3), by)).toEqual({ kind: 'none' });
  });

  it('given a holder of epoch 3, when epoch 3 is force-released, then lost, naming who', () => {
    expect(
      reactToLease(3, { type: 'LeaseForceReleased', data: { owner: 'w1', epoch: 3 } }, by),
    ).toEqual({ kind: 'lost', why: 'force-released by alice via cli' });
  });

  it('given a holder of epoch 3, when epoch 3 expires, then lost; an older epoch expiring: nothing', () => {
    const exp = (epoch: number): LeaseEvent => ({
      type: 'LeaseExpired',
      data: { owner: 'w1', epoch, expired_at: 't', detected_by: 'w2' },
    });
    expect(reactToLease(3, exp(3), by)).toEqual({ kind: 'lost', why: 'expired' });
    expect(reactToLease(3, exp(2), by)).toEqual({ kind: 'none' });
  });

  it.each(['LeaseReleased', 'LeaseForceReleased'] as const)(
    'given a standby, when %s, then it is freed (take over now)',
    (type) => {
      expect(reactToLease(null, { type, data: { owner: 'w1', epoch: 3 } }, by)).toEqual({
        kind: 'freed',
      });
    },
  );

  it('given a standby, when someone acquires or renews, then nothing', () => {
    expect(reactToLease(null, acquired(4), by)).toEqual({ kind: 'none' });
    expect(
      reactToLease(
        null,
        { type: 'LeaseRenewed', data: { owner: 'w1', epoch: 4, expires_at: 't' } },
        by,
      ),
    ).toEqual({ kind: 'none' });
  });
});
