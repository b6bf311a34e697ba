import { describe, expect, it } from '@jest/globals';
import { ControlFollower } from '../src/worker/control-follower.js';
import { HeldTerm, LeaseTerm } from '../src/worker/lease-term.js';
import { TickDeps, Ticker } from '../src/worker/tick.js';
import type { TickRecord } from '../src/worker/tick.decider.js';
import type { ClaimedAction } from '../src/worker/worker.sql.js';
import type { Attempt, RecordedAttempt } from '../src/worker/action-runner.js';
import type { ControlState } from '../src/control/control.decider.js';
import type { StoredEvent } from '../src/events/event.types.js';
import { decideWorkerStart } from '../src/control/proof-guard.js';

type Line = [string, string];
const logger = () => {
  const lines: Line[] = [];
  return { lines, log: (level: string, msg: string) => void lines.push([level, msg]) };
};

describe('lease term (given / when / then)', () => {
  const make = (renew: (epoch: number) => Promise<Date | null>) => {
    const l = logger();
    let lost = 0;
    const term = new LeaseTerm(7, { ttlSeconds: 30, renew, log: l.log, onLost: () => lost++ });
    return { term, lines: l.lines, lostCalls: () => lost };
  };

  it('given a held term, when the renewal succeeds, then it stays held', async () => {
    const seen: number[] = [];
    const t = make(async (e) => (seen.push(e), new Date()));
    await t.term.renew();
    expect(seen).toEqual([7]);
    expect(t.term.lost).toBe(false);
    expect(t.term.signal.aborted).toBe(false);
  });

  it('given a held term, when the renewal is refused, then it is lost once: signal aborted, loop woken', async () => {
    const t = make(async () => null);
    await t.term.renew();
    expect(t.term.lost).toBe(true);
    expect(t.term.signal.aborted).toBe(true);
    expect((t.term.signal.reason as Error).message).toBe('lease lost: renewal refused');
    t.term.lose('again');
    expect(t.lostCalls()).toBe(1);
    expect(t.lines).toEqual([
      ['warn', 'lease epoch 7 lost (renewal refused): aborting the running action'],
    ]);
  });

  it('given a held term, when the renewal fails (database down), then it is lost with the error', async () => {
    const t = make(async () => {
      throw new Error('connection refused');
    });
    await t.term.renew();
    expect(t.term.lost).toBe(true);
    expect(t.lines[0][1]).toContain('renewal failed: connection refused');
  });

  it('given a lost or ended term, when renewal is due, then nothing is renewed', async () => {
    let calls = 0;
    const t = make(async () => (calls++, new Date()));
    t.term.end();
    await t.term.renew();
    expect(calls).toBe(0);
    expect(t.term.lost).toBe(false); // ended, not lost: the worker releases it
    t.term.lose('error');
    expect(t.term.lost).toBe(true);
  });
});

const stored = (type: string, version: number, data: object = {}): StoredEvent =>
  ({
    seq: version,
    stream: 'control',
    stream_version: version,
    type,
    data,
    metadata: { actor: 'alice', via: 'cli' },
    occurred_at: '2026-01-01T00:00:00.000Z',
    prev_hash: '',
    hash: '',
  }) as StoredEvent;

describe('control follower (given / when / then)', () => {
  const make = (holding = true, ack?: (v: number) => Promise<void>) => {
    const l = logger();
    const acked: number[] = [];
    let woken = 0;
    const f = new ControlFollower({
      ack: ack ?? (async (v) => void acked.push(v)),
      holding: () => holding,
      log: l.log,
      onChange: () => woken++,
    });
    return { f, acked, lines: l.lines, woken: () => woken };
  };

  it('given a holder, when pause then resume arrive, then the flags follow, each is acknowledged in order', async () => {
    const t = make();
    t.f.apply(stored('ControlPaused', 1));
    expect(t.f.flags).toMatchObject({ paused: true, version: 1 });
    expect(t.f.resumed).toBe(false);
    t.f.apply(stored('ControlResumed', 2));
    expect(t.f.flags).toMatchObject({ paused: false, version: 2 });
    expect(t.f.resumed).toBe(true);
    await t.f.settled();
    expect(t.acked).toEqual([1, 2]);
    expect(t.woken()).toBe(2);
    // each change's log line is written once its acknowledgement is made, not before
    expect(t.lines.map(([, m]) => m)).toEqual([
      expect.stringMatching(/^control: ControlPaused \(version 1\)/),
      expect.stringMatching(/^control: ControlResumed \(version 2\)/),
    ]);
    t.f.tickStarted();
    expect(t.f.resumed).toBe(false);
  });

  it('given flags loaded at version 3, when an older or equal version arrives, then it is skipped', async () => {
    const t = make();
    t.f.load({ paused: true, killed: false, proofMode: true, version: 3 });
    t.f.apply(stored('ControlResumed', 3));
    t.f.apply(stored('ControlKilled', 2));
    expect(t.f.flags).toEqual({ paused: true, killed: false, proofMode: true, version: 3 });
    await t.f.settled();
    expect(t.acked).toEqual([]);
    expect(t.woken()).toBe(0);
  });

  it('given a holder, when a change arrives, then its log line waits for the acknowledgement', async () => {
    let release: () => void = () => undefined;
    const t = make(true, () => new Promise<void>((r) => (release = r)));
    t.f.apply(stored('ControlPaused', 1));
    await new Promise((r) => setImmediate(r));
    expect(t.lines).toEqual([]);
    release();
    await t.f.settled();
    expect(t.lines).toHaveLength(1);
  });

  it('given a standby, when a change arrives, then the flags follow but nothing is acknowledged', async () => {
    const t = make(false);
    t.f.apply(stored('ControlKilled', 1));
    expect(t.f.flags.killed).toBe(true);
    await t.f.settled();
    expect(t.acked).toEqual([]);
  });

  it('given an event that is not a flag change, when it arrives, then nothing happens', async () => {
    const t = make();
    t.f.apply(
      stored('ControlAcknowledged', 4, { control_version: 3, worker: 'w', epoch: 1, delay_ms: 5 }),
    );
    await t.f.settled();
    expect(t.f.flags.version).toBe(0);
    expect(t.acked).toEqual([]);
  });

  it('given an acknowledgement that fails, when the next one is queued, then it is logged and the next still goes out', async () => {
    const acked: number[] = [];
    const t = make(true, async (v) => {
      if (v === 1) throw new Error('db down');
      acked.push(v);
    });
    t.f.apply(stored('ControlPaused', 1));
    t.f.apply(stored('ControlResumed', 2));
    await t.f.settled();
    expect(acked).toEqual([2]);
    expect(t.lines).toContainEqual(['warn', 'could not acknowledge control version 1: db down']);
  });
});

describe('tick (given / when / then)', () => {
  const action = (id: number): ClaimedAction => ({
    id,
    action_type: 'http_webhook',
    payload: {},
    idempotency_key: `k${id}`,
    attempt: 1,
    proof_mode: true,
  });
  const fakeTerm = (): HeldTerm & { why: string[] } => {
    const abort = new AbortController();
    const t = {
      epoch: 5,
      why: [] as string[],
      get lost() {
        return t.why.length > 0;
      },
      signal: abort.signal,
      lose: (why: string) => void t.why.push(why),
    };
    return t;
  };
  const run = async (o: {
    flags?: Partial<ControlState>;
    batches?: (ClaimedAction[] | null)[];
    results?: RecordedAttempt[];
    config?: Partial<TickDeps['config']>;
    recordOk?: boolean;
    why?: 'scheduled' | 'stopping';
    onClaim?: (
      n: number,
      flags: { -readonly [K in keyof ControlState]: ControlState[K] },
      term: HeldTerm,
    ) => void;
  }) => {
    const term = fakeTerm();
    const records: TickRecord[] = [];
    const claims: number[] = [];
    /** Each aol_record_and_claim: the ids whose outcomes it records, and its claim limit. */
    const statements: [number[], number][] = [];
    let expired = 0;
    const results = [...(o.results ?? [])];
    const flags: { -readonly [K in keyof ControlState]: ControlState[K] } = {
      paused: false,
      killed: false,
      proofMode: true,
      version: 1,
      ...o.flags,
    };
    const ticker = new Ticker({
      config: {
        maxTickSeconds: 60,
        maxActionsPerTick: 10,
        claimBatchSize: 1,
        workerConcurrency: 1,
        ...o.config,
      },
      recordAndClaim: async (_e, attempts, limit) => {
        statements.push([attempts.map((x) => x.action.id), limit]);
        const recorded = attempts.map(() => results.shift() ?? 'success');
        if (recorded.includes('fenced')) return { results: recorded, claimed: null };
        if (limit === 0) return { results: recorded, claimed: [] };
        claims.push(limit);
        o.onClaim?.(claims.length, flags, term);
        return { results: recorded, claimed: o.batches?.length ? o.batches.shift()! : [] };
      },
      execute: async (a) => ({ action: a, overran: false }) as unknown as Attempt,
      expireScopedPauses: async () => void expired++,
      recordTick: async (_e, r) => (records.push(r), o.recordOk ?? true),
      dbNow: () => new Date('2026-01-01T00:00:00Z'),
      flags: () => flags,
      stopping: () => false,
    });
    const recorded = await ticker.run(term, o.why ?? 'scheduled');
    return { recorded, records, claims, statements, expired, term, flags };
  };

  it('given nothing due, when a tick runs, then SUCCESS "no due actions"', async () => {
    const r = await run({});
    expect(r.recorded).toBe(true);
    expect(r.records).toEqual([
      {
        started_at: '2026-01-01T00:00:00.000Z',
        status: 'SUCCESS',
        actions_attempted: 0,
        actions_succeeded: 0,
        notes: 'no due actions',
      },
    ]);
  });

  it('given two due actions and a batch of one, when a tick runs, then it claims one at a time until empty', async () => {
    const r = await run({ batches: [[action(1)], [action(2)]], results: ['success', 'failed'] });
    expect(r.claims).toEqual([1, 1, 1]);
    expect(r.records[0]).toMatchObject({
      status: 'PARTIAL',
      actions_attempted: 2,
      actions_succeeded: 1,
      notes: '1/2 succeeded',
    });
  });

  it('given two due actions at batch 1, then each statement records the last action and claims the next', async () => {
    const r = await run({ batches: [[action(1)], [action(2)]] });
    expect(r.statements).toEqual([
      [[], 1],
      [[1], 1],
      [[2], 1],
    ]);
    expect(r.records[0]).toMatchObject({ status: 'SUCCESS', actions_attempted: 2 });
  });

  it('given the term lost while an action runs, then its outcome is recorded without a claim and no tick', async () => {
    const r = await run({
      batches: [[action(1)], [action(2)]],
      onClaim: (n, _flags, term) => {
        if (n === 1) term.lose('renewal refused');
      },
    });
    expect(r.statements).toEqual([
      [[], 1],
      [[1], 0],
    ]);
    expect(r.recorded).toBe(false);
  });

  it('given a kill during the last allowed batch, then the outcomes are recorded with no claim', async () => {
    const r = await run({
      batches: [[action(1), action(2)]],
      config: { maxActionsPerTick: 2, claimBatchSize: 5 },
      onClaim: (_n, flags) => {
        flags.killed = true;
      },
    });
    expect(r.statements).toEqual([
      [[], 2],
      [[1, 2], 0],
    ]);
    expect(r.records[0]).toMatchObject({
      status: 'SUCCESS',
      actions_attempted: 2,
      notes: '2/2 succeeded',
    });
  });

  it('given more due than the tick may take, when it runs, then it stops at AOL_MAX_ACTIONS_PER_TICK', async () => {
    const r = await run({
      batches: [[action(1), action(2)], [action(3)]],
      config: { maxActionsPerTick: 3, claimBatchSize: 2 },
    });
    expect(r.claims).toEqual([2, 1]);
    expect(r.statements).toEqual([
      [[], 2],
      [[1, 2], 1],
      [[3], 0],
    ]);
    expect(r.records[0]).toMatchObject({ status: 'SUCCESS', actions_attempted: 3 });
  });

  it('given the pause flag, when a tick runs, then nothing is claimed, scoped pauses expire, PAUSED', async () => {
    const r = await run({ flags: { paused: true }, batches: [[action(1)]] });
    expect(r.claims).toEqual([]);
    expect(r.expired).toBe(1);
    expect(r.records[0]).toMatchObject({ status: 'PAUSED', notes: 'paused' });
  });

  it('given a pause arriving during the first action, when the tick goes on, then it stops: "paused mid-tick"', async () => {
    const r = await run({
      batches: [[action(1)], [action(2)]],
      onClaim: (n, flags) => {
        if (n === 1) flags.paused = true;
      },
    });
    expect(r.claims).toEqual([1]);
    expect(r.records[0]).toMatchObject({
      status: 'SUCCESS',
      actions_attempted: 1,
      notes: 'paused mid-tick',
    });
  });

  it('given the stopping tick of a killed worker, then SUCCESS "killed: stopping" without a claim', async () => {
    const r = await run({ why: 'stopping', flags: { killed: true }, batches: [[action(1)]] });
    expect(r.claims).toEqual([]);
    expect(r.records[0]).toMatchObject({ status: 'SUCCESS', notes: 'killed: stopping' });
  });

  it('given a claim the fence refuses, then the term is lost and no tick is recorded', async () => {
    const r = await run({ batches: [null] });
    expect(r.term.why).toEqual(['fenced on claim']);
    expect(r.recorded).toBe(false);
    expect(r.records).toEqual([]);
  });

  it('given an outcome the fence refuses, then the term is lost and no tick is recorded', async () => {
    const r = await run({ batches: [[action(1)]], results: ['fenced'] });
    expect(r.term.why).toEqual(['fenced on outcome']);
    expect(r.records).toEqual([]);
  });

  it('given a tick record the fence refuses, then the term is lost', async () => {
    const r = await run({ recordOk: false });
    expect(r.recorded).toBe(false);
    expect(r.term.why).toEqual(['fenced on tick']);
  });

  it('given no budget, when a tick runs, then PARTIAL "tick budget used up" without a claim', async () => {
    const r = await run({ config: { maxTickSeconds: 0 }, batches: [[action(1)]] });
    expect(r.claims).toEqual([]);
    expect(r.records[0]).toMatchObject({ status: 'PARTIAL', notes: 'tick budget used up' });
  });
});

describe('production proof-mode guard (given / when / then)', () => {
  const base = {
    production: true,
    envProofMode: false,
    flagProofMode: false,
    lastDisableRequestId: 'r1',
  };
  it('given not production, or AOL_PROOF_MODE=true, then a worker starts', () => {
    expect(decideWorkerStart({ ...base, production: false, lastDisableRequestId: null })).toEqual({
      ok: true,
    });
    expect(decideWorkerStart({ ...base, envProofMode: true, flagProofMode: true })).toEqual({
      ok: true,
    });
  });
  it('given production, real mode and the flag off through an approved request, then it starts', () => {
    expect(decideWorkerStart(base)).toEqual({ ok: true });
  });
  it('given production, real mode and the flag on, or off without an approved request, then it is refused', () => {
    for (const i of [
      { ...base, flagProofMode: true },
      { ...base, lastDisableRequestId: null },
    ]) {
      const d = decideWorkerStart(i);
      expect('refused' in d && d.refused).toMatch(/^refusing to start: NODE_ENV=production/);
    }
  });
});
