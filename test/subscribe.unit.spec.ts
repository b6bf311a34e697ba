import { describe, expect, it } from '@jest/globals';
import { Subject } from 'rxjs';
import type { EventPointer, Wakeup } from '../src/events/event-notifier.js';
import type { EventFilter } from '../src/events/event-store.js';
import type { StoredEvent } from '../src/events/event.types.js';
import { subscribeEvents } from '../src/events/subscribe.js';

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An in-memory log: reads return what was appended after `after`, with an optional hold. */
function fakeLog() {
  const log: StoredEvent[] = [];
  const reads: { after: number }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let hold: Promise<void> | undefined;
  return {
    reads,
    maxInFlight: () => maxInFlight,
    inFlight: () => inFlight,
    holdReads(p: Promise<void> | undefined) {
      hold = p;
    },
    append(n: number): EventPointer[] {
      const out: EventPointer[] = [];
      for (let i = 0; i < n; i++) {
        const seq = log.length + 1;
        log.push({
          seq,
          stream: 'control',
          stream_version: seq,
          type: 'ControlPaused',
        } as StoredEvent);
        out.push({ stream: 'control', seq, type: 'ControlPaused', version: seq });
      }
      return out;
    },
    store: {
      read: async (f: EventFilter = {}) => {
        reads.push({ after: f.after ?? 0 });
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        try {
          if (hold) await hold;
          return log.filter((e) => e.seq > (f.after ?? 0)).slice(0, f.limit ?? 1000);
        } finally {
          inFlight--;
        }
      },
    },
  };
}

describe('subscribeEvents: coalescing follower (given / when / then)', () => {
  it('given a coalescing window, when five NOTIFYs arrive within it, then one re-read follows and every event arrives once, in order', async () => {
    const l = fakeLog();
    const wakeups$ = new Subject<Wakeup>();
    const got: number[] = [];
    const sub = subscribeEvents(l.store, { wakeups$ }, 0, { coalesceMs: 30 }).subscribe((e) =>
      got.push(e.seq),
    );
    await until(() => l.reads.length === 1 && l.inFlight() === 0); // the initial catch-up
    for (const p of l.append(5)) wakeups$.next(p);
    expect(l.reads).toHaveLength(1); // nothing read yet: the window is open
    await until(() => got.length === 5);
    await sleep(60);
    expect(l.reads).toHaveLength(2);
    expect(got).toEqual([1, 2, 3, 4, 5]);
    sub.unsubscribe();
  });

  it('given a re-read in flight, when NOTIFYs arrive during it, then no second read overlaps and exactly one more follows', async () => {
    const l = fakeLog();
    const wakeups$ = new Subject<Wakeup>();
    const got: number[] = [];
    const sub = subscribeEvents(l.store, { wakeups$ }, 0, { coalesceMs: 5 }).subscribe((e) =>
      got.push(e.seq),
    );
    await until(() => l.reads.length === 1 && l.inFlight() === 0);
    let release: () => void = () => undefined;
    l.holdReads(new Promise<void>((r) => (release = r)));
    wakeups$.next(l.append(1)[0]);
    await until(() => l.inFlight() === 1);
    for (const p of l.append(3)) wakeups$.next(p); // during the read
    wakeups$.next(null); // a reconnect, too
    await sleep(30);
    expect(l.reads).toHaveLength(2);
    l.holdReads(undefined);
    release();
    await until(() => got.length === 4);
    await sleep(30);
    expect(l.reads).toHaveLength(3);
    expect(l.maxInFlight()).toBe(1);
    expect(got).toEqual([1, 2, 3, 4]);
    sub.unsubscribe();
  });

  it('given no window (the worker), when a NOTIFY arrives, then the re-read starts at once', async () => {
    const l = fakeLog();
    const wakeups$ = new Subject<Wakeup>();
    const sub = subscribeEvents(l.store, { wakeups$ }, 0).subscribe(() => undefined);
    await until(() => l.reads.length === 1 && l.inFlight() === 0);
    await sleep(10); // the catch-up read has settled
    try {
      wakeups$.next(l.append(1)[0]);
      expect(l.reads).toHaveLength(2); // synchronously, no timer in between
    } finally {
      sub.unsubscribe();
    }
  });

  it('given wakeFor, when only rejected pointers arrive, then nothing is re-read; the next accepted one returns all of them', async () => {
    const l = fakeLog();
    const wakeups$ = new Subject<Wakeup>();
    const got: number[] = [];
    const sub = subscribeEvents(l.store, { wakeups$ }, 0, {
      wakeFor: (p) => p.type !== 'ControlAcknowledged',
    }).subscribe((e) => got.push(e.seq));
    await until(() => l.reads.length === 1 && l.inFlight() === 0);
    const [ack] = l.append(1);
    wakeups$.next({ ...ack, type: 'ControlAcknowledged' });
    await sleep(20);
    expect(l.reads).toHaveLength(1);
    wakeups$.next(l.append(1)[0]);
    await until(() => got.length === 2);
    expect(got).toEqual([1, 2]);
    sub.unsubscribe();
  });

  it('given an unsubscribed follower, when its window would end, then it reads nothing more', async () => {
    const l = fakeLog();
    const wakeups$ = new Subject<Wakeup>();
    const sub = subscribeEvents(l.store, { wakeups$ }, 0, { coalesceMs: 20 }).subscribe(
      () => undefined,
    );
    await until(() => l.reads.length === 1 && l.inFlight() === 0);
    wakeups$.next(l.append(1)[0]);
    sub.unsubscribe();
    await sleep(50);
    expect(l.reads).toHaveLength(1);
  });
});
