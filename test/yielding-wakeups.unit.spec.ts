import { describe, expect, it } from '@jest/globals';
import { Subject } from 'rxjs';
import type { EventPointer, Wakeup } from '../src/events/event-notifier.js';
import { yieldingWakeups } from '../src/events/yielding-wakeups.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let seq = 0;
const ptr = (stream: string, type: string): EventPointer => ({
  stream,
  type,
  seq: ++seq,
  version: seq,
});

function follow(o = { windowMs: 20, maxMs: 200 }) {
  const source = new Subject<Wakeup>();
  // Pointers passed on in one synchronous go share a `go`: a new one is made
  // after each delivery's synchronous run (a millisecond clock could tick
  // in the middle of one go, and did once in CI).
  const got: { go: object; p: Wakeup }[] = [];
  let go = {};
  const sub = yieldingWakeups(source, o).subscribe((p) => {
    got.push({ go, p });
    queueMicrotask(() => (go = {}));
  });
  return {
    source,
    got,
    types: () => got.map((g) => g.p?.type ?? null),
    stop: () => sub.unsubscribe(),
  };
}

describe('yieldingWakeups: the API follower yields to the worker (given / when / then)', () => {
  it('given a control change, when its acknowledgement arrives, then both pointers are passed on together, only then', async () => {
    const f = follow({ windowMs: 5, maxMs: 500 });
    f.source.next(ptr('control', 'ControlPaused'));
    f.source.next(ptr('action:1', 'ActionEnqueued'));
    await sleep(40); // well past the window: a pending change holds the burst
    expect(f.got).toHaveLength(0);
    f.source.next(ptr('control', 'ControlAcknowledged'));
    expect(f.types()).toEqual(['ControlPaused', 'ActionEnqueued', 'ControlAcknowledged']);
    f.stop();
  });

  it('given a burst without a control change, when the window ends, then all of it is passed on at once, in order', async () => {
    const f = follow({ windowMs: 20, maxMs: 500 });
    const burst = [
      ptr('action:1', 'ActionStarted'),
      ptr('action:1', 'ActionSucceeded'),
      ptr('tick', 'TickRecorded'),
    ];
    for (const p of burst) f.source.next(p);
    expect(f.got).toHaveLength(0);
    await sleep(60);
    expect(f.got.map((g) => g.p)).toEqual(burst);
    expect(new Set(f.got.map((g) => g.go)).size).toBe(1); // one go
    f.stop();
  });

  it('given a control change and no worker to acknowledge it, when maxMs passes, then it is passed on anyway', async () => {
    const f = follow({ windowMs: 5, maxMs: 50 });
    f.source.next(ptr('control', 'ControlKilled'));
    await sleep(20);
    expect(f.got).toHaveLength(0);
    await sleep(100);
    expect(f.types()).toEqual(['ControlKilled']);
    f.stop();
  });

  it('given buffered pointers, when the connection is re-opened (null), then everything is passed on at once', () => {
    const f = follow();
    f.source.next(ptr('control', 'ControlResumed'));
    f.source.next(null);
    expect(f.types()).toEqual(['ControlResumed', null]);
    f.stop();
  });

  it('given an unsubscribed follower, when its timers would fire, then nothing is passed on', async () => {
    const f = follow({ windowMs: 5, maxMs: 10 });
    f.source.next(ptr('tick', 'TickRecorded'));
    f.stop();
    await sleep(40);
    expect(f.got).toHaveLength(0);
  });
});
