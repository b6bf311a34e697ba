import { hostname } from 'node:os';
import { Subscription } from 'rxjs';
import { Config } from '../config/config.js';
import { Db } from '../db/db.js';
import { EventStore } from '../events/event-store.js';
import { EventNotifier } from '../events/event-notifier.js';
import { domainEvent, isControlEvent, isLeaseEvent, StoredEvent } from '../events/event.types.js';
import { subscribeEvents } from '../events/subscribe.js';
import { ControlState, evolveControl, FLAG_EVENT_TYPES } from '../control/control.decider.js';
import { selectControl, toControlState } from '../control/control.sql.js';
import { acquireLease, releaseLease, renewLease } from '../lease/lease.sql.js';
import { reactToLease } from '../lease/lease.decider.js';
import { HANDLERS } from '../actions/action-registry.js';
import { ActionRunner, mapLimit } from './action-runner.js';
import {
  decideTick,
  evolveTick,
  initialTickState,
  interruption,
  TickReason,
} from './tick.decider.js';
import { Waker } from './waker.js';
import {
  ackControl,
  claimActions,
  expireScopedPauses,
  recordTick,
  recoverOrphans,
} from './worker.sql.js';

export type WorkerLog = (level: 'info' | 'warn' | 'error', msg: string) => void;
export type WorkerOptions = Readonly<{ maxTicks?: number; log: WorkerLog; id?: string }>;

type Term = { epoch: number; abort: AbortController; lost: boolean; renewTimer: NodeJS.Timeout };

/**
 * The worker process. Exactly one worker holds the lease and works; the others
 * wait as hot standbys. Control reaches it through NOTIFY (never polling): a
 * pause/kill/proof change wakes it, it applies the change and appends
 * ControlAcknowledged. Every write it makes is fenced by its lease epoch.
 *
 * States: standby → (acquire) → active term → (lease lost) → standby …
 *                                            → (kill / SIGTERM / --max-ticks) → exit 0
 */
export class Worker {
  readonly id: string;
  private flags: ControlState = { paused: false, killed: false, proofMode: true, version: 0 };
  private term: Term | undefined;
  private stopping = false;
  private resumed = false;
  private ticks = 0;
  private failures = 0;
  private acks: Promise<void> = Promise.resolve();
  private clockOffsetMs = 0;
  private inFlight: Promise<unknown> = Promise.resolve();
  private readonly waker = new Waker();
  private readonly subs: Subscription[] = [];
  private readonly runner: ActionRunner;

  constructor(
    private readonly config: Config,
    private readonly db: Db,
    private readonly store: EventStore,
    private readonly notifier: EventNotifier,
    private readonly opts: WorkerOptions,
  ) {
    this.id = opts.id ?? `${hostname()}:${process.pid}`;
    this.runner = new ActionRunner(db, config, this.id, opts.log);
  }

  /** SIGTERM/SIGINT: as kill, without setting the flag. */
  requestStop(): void {
    this.stopping = true;
    this.waker.wake();
  }

  /** Run until killed, stopped or --max-ticks is done. Resolves with the exit code. */
  async run(): Promise<number> {
    const log = this.opts.log;
    const head = await this.store.headSeq();
    // Subscribe before reading the flags: an event committed in between is
    // seen by the subscription, and evolve skips what the read already has.
    this.subs.push(
      subscribeEvents(this.store, this.notifier, head, {
        stream: 'control',
        safetyIntervalMs: 60_000,
      }).subscribe((e) => this.onControl(e)),
    );
    this.subs.push(
      subscribeEvents(this.store, this.notifier, head, {
        stream: 'lease',
        safetyIntervalMs: 60_000,
      }).subscribe((e) => this.onLease(e)),
    );
    this.flags = toControlState(await selectControl(this.db));
    log(
      'info',
      `worker ${this.id} started (proof mode ${this.proofMode() ? 'on' : 'off'}${this.config.proofMode ? ', forced by AOL_PROOF_MODE' : ''})`,
    );
    try {
      while (!this.stopping && !this.flags.killed) {
        await this.inFlight;
        const lease = await this.tryAcquire();
        if (lease.acquired) {
          const failed = await this.activeTerm(lease.epoch, lease.expiresAt);
          // After a failed term (database trouble) back off before trying again: 0.5, 1, 2 … 8 s.
          this.failures = failed ? this.failures + 1 : 0;
          if (failed) await this.waker.sleep(Math.min(8000, 250 * 2 ** this.failures));
          continue;
        }
        if (this.opts.maxTicks !== undefined) {
          log(
            'info',
            `lease held by ${lease.owner} (epoch ${lease.epoch}) until ${lease.expiresAt.toISOString()}; exiting (cron mode)`,
          );
          return 0;
        }
        // Hot standby: a release wakes us through NOTIFY; a dead holder's
        // lease is taken over when it expires.
        const waitMs = lease.expiresAt.getTime() - lease.now.getTime() + 20;
        await this.waker.sleep(Math.min(waitMs, this.config.leaseTtlSeconds * 1000));
      }
      if (this.flags.killed) log('info', 'kill is set: exiting (revive to run again)');
      return 0;
    } finally {
      for (const s of this.subs) s.unsubscribe();
    }
  }

  private async tryAcquire() {
    try {
      const r = await acquireLease(this.db, this.id, this.config.leaseTtlSeconds);
      this.clockOffsetMs = r.now.getTime() - Date.now();
      return r;
    } catch (err) {
      this.opts.log(
        'warn',
        `cannot reach the database to acquire the lease: ${(err as Error).message}; retrying`,
      );
      const now = new Date();
      return {
        acquired: false,
        owner: '(unknown)',
        epoch: 0,
        expiresAt: new Date(now.getTime() + 1000),
        now,
      };
    }
  }

  /** One stretch as lease holder. Resolves true when it ended in an error. */
  private async activeTerm(epoch: number, expiresAt: Date): Promise<boolean> {
    const log = this.opts.log;
    const term: Term = {
      epoch,
      abort: new AbortController(),
      lost: false,
      renewTimer: setInterval(
        () => void this.renew(term),
        (this.config.leaseTtlSeconds * 1000) / 3,
      ),
    };
    this.term = term;
    let failed = false;
    log('info', `lease acquired: epoch ${epoch}, expires ${expiresAt.toISOString()}`);
    try {
      const idempotent = [...HANDLERS.values()].filter((h) => h.idempotent).map((h) => h.type);
      for (const r of await recoverOrphans(
        this.db,
        this.id,
        epoch,
        idempotent,
        this.config.maxRetries,
      )) {
        log('warn', `action ${r.id} was left RUNNING by a lost lease: now ${r.status}`);
      }
      // Changes made while no worker was active are acknowledged now.
      const control = await selectControl(this.db);
      this.flags = toControlState(control);
      if (control.ack_version < control.version) await this.ack(control.version);
      let nextTickAt = Date.now();
      while (!term.lost) {
        if (this.stopping || this.flags.killed) {
          await this.acks;
          await this.tick(term, 'stopping');
          break;
        }
        await this.waitUntil(nextTickAt, term);
        if (term.lost || this.stopping || this.flags.killed) continue;
        // Acknowledgements before new work: a resume's ack is not queued behind the claim it allows.
        await this.acks;
        nextTickAt = Date.now() + this.config.tickIntervalSeconds * 1000;
        this.resumed = false;
        await this.tick(term, 'scheduled');
        // A kill or stop that arrived during the tick is covered by the tick just recorded.
        if (this.stopping || this.flags.killed) break;
        if (this.opts.maxTicks !== undefined && this.ticks >= this.opts.maxTicks) {
          log('info', `${this.ticks} tick(s) done (--max-ticks): exiting`);
          this.stopping = true;
          break;
        }
      }
    } catch (err) {
      log('error', `active term failed: ${(err as Error).message}; back to standby`);
      this.lose(term, 'error');
      failed = true;
    } finally {
      clearInterval(term.renewTimer);
      this.term = undefined;
    }
    if (!term.lost) {
      await this.acks;
      const released = await releaseLease(this.db, this.id, epoch).catch(() => false);
      log(
        'info',
        released
          ? `lease released (epoch ${epoch})`
          : `lease (epoch ${epoch}) was no longer ours to release`,
      );
    } else {
      log('warn', `lease lost (epoch ${epoch}): stopped working, back to standby`);
    }
    return failed;
  }

  /** Sleep until the next tick, unless kill, stop, lease loss or a resume cuts it short. */
  private async waitUntil(at: number, term: Term): Promise<void> {
    while (!term.lost && !this.stopping && !this.flags.killed && !this.resumed) {
      const ms = at - Date.now();
      if (ms <= 0) return;
      await this.waker.sleep(ms);
    }
  }

  private async tick(term: Term, why: TickReason): Promise<void> {
    const startedAt = new Date(Date.now() + this.clockOffsetMs).toISOString();
    const started = Date.now();
    let t = initialTickState();
    const note = (text: string) => (t = evolveTick(t, { type: 'Noted', note: text }));
    if (why === 'stopping') {
      note(this.flags.killed ? 'killed: stopping' : 'stop requested: stopping');
    } else if (this.flags.paused) {
      note('paused');
      // no claim runs while paused, so scoped pauses reach their deadline here
      await expireScopedPauses(this.db, this.id);
    } else {
      const deadline = started + this.config.maxTickSeconds * 1000;
      // Claim in batches of AOL_CLAIM_BATCH_SIZE (default 1: pause and kill take
      // effect between any two actions), run up to AOL_WORKER_CONCURRENCY of a
      // batch at once, record the batch's outcomes in one transaction.
      while (t.attempted < this.config.maxActionsPerTick) {
        const stop = interruption({
          leaseLost: term.lost,
          killed: this.flags.killed,
          paused: this.flags.paused,
          stopping: this.stopping,
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
        const want = Math.min(
          this.config.claimBatchSize,
          this.config.maxActionsPerTick - t.attempted,
        );
        const claimed = await claimActions(
          this.db,
          this.id,
          term.epoch,
          want,
          this.config.proofMode,
        );
        if (claimed === null) {
          this.lose(term, 'fenced on claim');
          break;
        }
        if (claimed.length === 0) break;
        t = evolveTick(t, { type: 'Claimed', count: claimed.length });
        const run = mapLimit(claimed, this.config.workerConcurrency, (a) =>
          this.runner.execute(a, term.abort.signal, budget),
        ).then((done) => this.runner.record(term.epoch, done));
        this.inFlight = run.catch(() => undefined);
        for (const result of await run) {
          t = evolveTick(t, { type: 'Recorded', result });
          if (result === 'fenced') this.lose(term, 'fenced on outcome');
        }
      }
    }
    if (term.lost) return;
    const ok = await recordTick(
      this.db,
      this.id,
      term.epoch,
      decideTick(t, why, this.flags.paused, startedAt),
    );
    if (!ok) this.lose(term, 'fenced on tick');
    else this.ticks++;
  }

  private proofMode(): boolean {
    return this.flags.proofMode || this.config.proofMode;
  }

  private async renew(term: Term): Promise<void> {
    if (term.lost) return;
    try {
      const exp = await renewLease(this.db, this.id, term.epoch, this.config.leaseTtlSeconds);
      if (exp === null) this.lose(term, 'renewal refused');
    } catch (err) {
      // Can't renew → stop working now; standby re-acquires (same epoch if it is still ours).
      this.lose(term, `renewal failed: ${(err as Error).message}`);
    }
  }

  private lose(term: Term, why: string): void {
    if (term.lost) return;
    term.lost = true;
    this.opts.log('warn', `lease epoch ${term.epoch} lost (${why}): aborting the running action`);
    term.abort.abort(new Error(`lease lost: ${why}`));
    clearInterval(term.renewTimer);
    this.waker.wake();
  }

  private onControl(e: StoredEvent): void {
    if (!isControlEvent(e) || !FLAG_EVENT_TYPES.has(e.type)) return;
    if (e.stream_version <= this.flags.version) return;
    const wasPaused = this.flags.paused;
    this.flags = evolveControl(this.flags, domainEvent(e), e.stream_version);
    if (wasPaused && !this.flags.paused) this.resumed = true;
    this.opts.log(
      'info',
      `control: ${e.type} (version ${e.stream_version}) by ${e.metadata.actor} via ${e.metadata.via}`,
    );
    this.waker.wake();
    if (this.term && !this.term.lost) this.queueAck(e.stream_version);
  }

  /** Acknowledgements go out in order, and a stopping worker waits for them before its last tick and release. */
  private queueAck(version: number): void {
    this.acks = this.acks.then(() => this.ack(version));
  }

  private async ack(version: number): Promise<void> {
    const term = this.term;
    if (!term) return;
    try {
      if (!(await ackControl(this.db, this.id, term.epoch, version)))
        this.lose(term, 'fenced on acknowledgement');
    } catch (err) {
      this.opts.log(
        'warn',
        `could not acknowledge control version ${version}: ${(err as Error).message}`,
      );
    }
  }

  private onLease(e: StoredEvent): void {
    if (!isLeaseEvent(e)) return;
    const term = this.term;
    if (term?.lost) return;
    const r = reactToLease(term ? term.epoch : null, domainEvent(e), e.metadata);
    if (r.kind === 'lost' && term) this.lose(term, r.why);
    else if (r.kind === 'freed') this.waker.wake(); // standby: take over now
  }
}
