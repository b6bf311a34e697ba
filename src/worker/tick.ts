import type { Config } from '../config/config.js';
import type { ControlState } from '../control/control.decider.js';
import type { Attempt, RecordedAttempt } from './action-runner.js';
import { mapLimit } from './action-runner.js';
import type { HeldTerm } from './lease-term.js';
import {
  decideTick,
  evolveTick,
  initialTickState,
  interruption,
  TickReason,
  TickRecord,
} from './tick.decider.js';
import type { ClaimedAction } from './worker.sql.js';

export type TickDeps = Readonly<{
  config: Pick<
    Config,
    'maxTickSeconds' | 'maxActionsPerTick' | 'claimBatchSize' | 'workerConcurrency'
  >;
  /** Claim up to `limit` due actions, fenced; null when the fence refused. */
  claim: (epoch: number, limit: number) => Promise<ClaimedAction[] | null>;
  execute: (a: ClaimedAction, signal: AbortSignal, budgetMs: number) => Promise<Attempt>;
  record: (epoch: number, attempts: readonly Attempt[]) => Promise<RecordedAttempt[]>;
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
 * of a batch at once, record the batch's outcomes in one transaction, stop at
 * AOL_MAX_ACTIONS_PER_TICK, the tick budget, a pause, a kill, a stop or the
 * loss of the term; then record TickRecorded as the tick decider says.
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
      while (t.attempted < config.maxActionsPerTick) {
        const f = flags();
        const stop = interruption({
          leaseLost: term.lost,
          killed: f.killed,
          paused: f.paused,
          stopping: this.deps.stopping(),
        });
        if (stop) {
          note(stop);
          break;
        }
        const budget = deadline - Date.now();
        if (budget <= 0) {
          t = evolveTick(t, { type: 'BudgetUsedUp' });
          break;
        }
        const want = Math.min(config.claimBatchSize, config.maxActionsPerTick - t.attempted);
        const claimed = await this.deps.claim(term.epoch, want);
        if (claimed === null) {
          term.lose('fenced on claim');
          break;
        }
        if (claimed.length === 0) break;
        t = evolveTick(t, { type: 'Claimed', count: claimed.length });
        const run = mapLimit(claimed, config.workerConcurrency, (a) =>
          this.deps.execute(a, term.signal, budget),
        ).then((done) => this.deps.record(term.epoch, done));
        this.inFlight = run.catch(() => undefined);
        for (const result of await run) {
          t = evolveTick(t, { type: 'Recorded', result });
          if (result === 'fenced') term.lose('fenced on outcome');
        }
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
