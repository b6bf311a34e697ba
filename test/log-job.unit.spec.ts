import { describe, expect, it } from '@jest/globals';
import { Subject } from 'rxjs';
import type { EventNotifier, Wakeup } from '../src/events/event-notifier.js';
import { LogJob } from '../src/events/log-job.js';

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('LogJob (given / when / then)', () => {
  it('given a run in progress, when woken three times, then exactly one more run follows', async () => {
    let runs = 0;
    let release: () => void = () => undefined;
    const job = new LogJob({
      run: () => {
        runs++;
        return new Promise<void>((r) => (release = r));
      },
      due: () => true,
      everyMs: 60_000,
      retryMs: 10,
      onError: () => undefined,
    });
    job.start();
    await until(() => runs === 1);
    job.poke();
    job.poke();
    job.poke();
    release();
    await until(() => runs === 2);
    release();
    await new Promise((r) => setTimeout(r, 30));
    expect(runs).toBe(2);
    await job.stop();
  });

  it('given a failing run, when it fails, then the error is reported and the run retried', async () => {
    let runs = 0;
    const errors: string[] = [];
    const job = new LogJob({
      run: async () => {
        if (++runs === 1) throw new Error('database restarted');
      },
      due: () => true,
      everyMs: 60_000,
      retryMs: 10,
      onError: (e) => errors.push(e.message),
    });
    job.start();
    await until(() => runs === 2);
    expect(errors).toEqual(['database restarted']);
    await job.stop();
  });

  it('given NOTIFY pointers, when only some are due, then only those wake it; after stop nothing runs', async () => {
    let runs = 0;
    const wakeups$ = new Subject<Wakeup>();
    const job = new LogJob({
      run: async () => void runs++,
      due: (p) => !p || p.seq >= 10,
      everyMs: 60_000,
      retryMs: 10,
      onError: () => undefined,
    });
    job.start({ wakeups$ } as unknown as EventNotifier);
    await until(() => runs === 1); // the start-up run
    wakeups$.next({ stream: 'tick', seq: 3, type: 'TickRecorded', version: 1 });
    await new Promise((r) => setTimeout(r, 30));
    expect(runs).toBe(1);
    wakeups$.next({ stream: 'tick', seq: 12, type: 'TickRecorded', version: 2 });
    await until(() => runs === 2);
    await job.stop();
    expect(job.stopped).toBe(true);
    wakeups$.next(null);
    job.poke();
    await new Promise((r) => setTimeout(r, 30));
    expect(runs).toBe(2);
  });
});
