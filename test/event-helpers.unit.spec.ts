import { describe, expect, it } from '@jest/globals';
import {
  domainEvent,
  isControlEvent,
  isEvent,
  isLeaseEvent,
  StoredEvent,
} from '../src/events/event.types.js';
import { mapDbError } from '../src/db/db-errors.js';
import { ConcurrencyError, DomainError, ForbiddenError } from '../src/common/errors.js';
import { Waker } from '../src/worker/waker.js';
import { mapLimit } from '../src/worker/action-runner.js';

const stored = (type: string, data: object, stream = 'control'): StoredEvent =>
  ({
    seq: 1,
    stream,
    stream_version: 1,
    type,
    data,
    metadata: { actor: 'a', via: 'cli' },
    occurred_at: '2026-01-01T00:00:00.000Z',
    prev_hash: '',
    hash: '',
  }) as StoredEvent;

describe('stored events narrow by type (given / when / then)', () => {
  const acquired = stored(
    'LeaseAcquired',
    { owner: 'w1', epoch: 2, acquired_at: 't', expires_at: 't', ttl_seconds: 30 },
    'lease',
  );
  const paused = stored('ControlPaused', {});

  it('given a lease event, then isLeaseEvent and not isControlEvent; its data typed', () => {
    expect(isLeaseEvent(acquired)).toBe(true);
    expect(isControlEvent(acquired)).toBe(false);
    if (isEvent(acquired, 'LeaseAcquired')) expect(acquired.data.epoch).toBe(2);
    else throw new Error('not narrowed');
  });

  it('given a control event, then isControlEvent, and domainEvent keeps type and data only', () => {
    expect(isControlEvent(paused)).toBe(true);
    expect(isLeaseEvent(paused)).toBe(false);
    expect(domainEvent(paused)).toEqual({ type: 'ControlPaused', data: {} });
  });

  it('given several types, then isEvent matches any of them and nothing else', () => {
    expect(isEvent(paused, 'ControlResumed', 'ControlPaused')).toBe(true);
    expect(isEvent(paused, 'ControlResumed')).toBe(false);
  });
});

describe('database errors map to domain errors', () => {
  it.each([
    ['AOL09', ConcurrencyError, 409],
    ['AOL01', DomainError, 409],
    ['AOL03', ForbiddenError, 403],
    ['42501', ForbiddenError, 403],
  ] as const)('given SQLSTATE %s, then %p with %i', (code, cls, status) => {
    const e = mapDbError(Object.assign(new Error('refused by the database'), { code }));
    expect(e).toBeInstanceOf(cls);
    expect((e as DomainError).status).toBe(status);
    expect((e as Error).message).toBe('refused by the database');
  });

  it('given any other error, then it is returned as it is', () => {
    const e = Object.assign(new Error('connection reset'), { code: '57P01' });
    expect(mapDbError(e)).toBe(e);
  });
});

describe('waker: a sleep that can be cut short', () => {
  it('given a wake before the sleep, then the next sleep returns at once', async () => {
    const w = new Waker();
    w.wake();
    const t = Date.now();
    await w.sleep(60_000);
    expect(Date.now() - t).toBeLessThan(1000);
  });

  it('given a sleep, when woken, then it ends and the wake is used up', async () => {
    const w = new Waker();
    const done = w.sleep(60_000);
    w.wake();
    await done;
    let second = false;
    const s = w.sleep(20).then(() => (second = true));
    expect(second).toBe(false);
    await s;
  });
});

describe('mapLimit: bounded concurrency, results in order', () => {
  it('given 5 items and a limit of 2, then at most 2 run at once and results keep their order', async () => {
    let running = 0;
    let most = 0;
    const out = await mapLimit([1, 2, 3, 4, 5], 2, async (n) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5 * (6 - n)));
      running--;
      return n * 10;
    });
    expect(out).toEqual([10, 20, 30, 40, 50]);
    expect(most).toBe(2);
  });

  it('given no items, then no result', async () => {
    expect(await mapLimit([], 3, async () => 1)).toEqual([]);
  });
});
