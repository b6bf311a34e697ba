import type { Config } from '../config/config.js';
import type { ControlState } from '../control/control.decider.js';
import type { Attempt, RecordedAttempt } from './action-runner.js';
import { mapLimit } from './action-runner.js';
import type { HeldTerm } from './lease-term.js';
import {
  decideNextClaim,
  decideTick,
  evolveTick,
  initialTickState,
  TickReason,
  TickRecord,
} from './tick.decider.js';
import type { ClaimedAction } from './worker.sql.js';

export type TickDeps = Readonly<{
  config: Pick<
    Config,
    'maxTickSeconds' | 'maxActionsPerTick' | 'claimBatchSize' | 'workerConcurrency'
  >;
  /**
   * Record `attempts` (the previous batch; may be none) and claim up to
   * `limit` more (0: record only) in one statement (aol_record_and_claim),
   * fenced; claimed null when the fence refused.
   */
  recordAndClaim: (
    epoch: number,
    attempts: readonly Attempt[],
    limit: number,
  ) => Promise<Readonly<{ results: RecordedAttempt[]; claimed: ClaimedAction[] | null }>>;
  execute: (a: ClaimedAction, signal: AbortSignal, budgetMs: number) => Promise<Attempt>;
  /** No claim runs while paused, so scoped pauses reach their deadline here. */
  expireScopedPauses: () => Promise<unknown>;
  /** aol_record_tick, fenced: false when fenced. */
  recordTick: (epoch: number, record: TickRecord) => Promise<boolean>;
  /** The time now, on the database's clock (for started_at). */
  dbNow: () => Date;
  /** The flags now (the control follower's), and whether the worker is stopping. */
  flags: () => ControlState;
  stopping: () => boolean;
}>;

/**
 * One tick: claim in batches of AOL_CLAIM_BATCH_SIZE (default 1: pause and
 * kill take effect between any two actions), run up to AOL_WORKER_CONCURRENCY
 * of a batch at once, record the batch's outcomes together with the next
 * claim in one statement (aol_record_and_claim), stop claiming at
 * AOL_MAX_ACTIONS_PER_TICK, the tick budget, a pause, a kill, a stop or the
 * loss of the term (the last statement then records only); then record
 * TickRecorded as the tick decider says.
 */
export class Ticker {
  private inFlight: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: TickDeps) {}

  /** The attempts of a tick cut short by a lost term, still settling: wait before a new term. */
  settled(): Promise<unknown> {
    return this.inFlight;
  }

  /** Run one tick in `term`. Resolves true when its TickRecorded was written. */
  async run(term: HeldTerm, why: TickReason): Promise<boolean> {
    const { config, flags } = this.deps;
    const startedAt = this.deps.dbNow().toISOString();
    const started = Date.now();
    let t = initialTickState();
    const note = (text: string) => (t = evolveTick(t, { type: 'Noted', note: text }));
    if (why === 'stopping') {
      note(flags().killed ? 'killed: stopping' : 'stop requested: stopping');
    } else if (flags().paused) {
      note('paused');
      await this.deps.expireScopedPauses();
    } else {
      const deadline = started + config.maxTickSeconds * 1000;
      // Each statement records the batch just run and claims the next one:
      // one round trip per batch (per action at batch 1).
      let done: readonly Attempt[] = [];
      for (;;) {
        const f = flags();
        const budget = deadline - Date.now();
        const next = decideNextClaim(
          t,
          config,
          {
            leaseLost: term.lost,
            killed: f.killed,
            paused: f.paused,
            stopping: this.deps.stopping(),
          },
          budget,
        );
        if (next.type === 'stop' && next.step) t = evolveTick(t, next.step);
        const limit = next.type === 'claim' ? next.limit : 0;
        if (limit === 0 && done.length === 0) break;
        const r = await this.deps.recordAndClaim(term.epoch, done, limit);
        for (const result of r.results) {
          t = evolveTick(t, { type: 'Recorded', result });
          if (result === 'fenced') term.lose('fenced on outcome');
        }
        if (r.claimed === null) {
          if (!term.lost) term.lose('fenced on claim');
          break;
        }
        done = [];
        if (r.claimed.length === 0) break;
        t = evolveTick(t, { type: 'Claimed', count: r.claimed.length });
        const run = mapLimit(r.claimed, config.workerConcurrency, (a) =>
          this.deps.execute(a, term.signal, budget),
        );
        this.inFlight = run.catch(() => undefined);
        done = await run;
      }
    }
    if (term.lost) return false;
    const ok = await this.deps.recordTick(
      term.epoch,
      decideTick(t, why, flags().paused, startedAt),
    );
    if (!ok) term.lose('fenced on tick');
    return ok;
  }
}
