import { hostname } from 'node:os';
import { Subscription } from 'rxjs';
import { Config } from '../config/config.js';
import { Db } from '../db/db.js';
import { EventStore } from '../events/event-store.js';
import { EventNotifier } from '../events/event-notifier.js';
import { domainEvent, isLeaseEvent, StoredEvent } from '../events/event.types.js';
import { subscribeEvents } from '../events/subscribe.js';
import { selectControl, toControlState } from '../control/control.sql.js';
import { acquireLease, releaseLease, renewLease } from '../lease/lease.sql.js';
import { reactToLease } from '../lease/lease.decider.js';
import { HANDLERS } from '../actions/action-registry.js';
import { ActionRunner } from './action-runner.js';
import { ControlFollower } from './control-follower.js';
import { LeaseTerm } from './lease-term.js';
import { Ticker } from './tick.js';
import { Waker } from './waker.js';
import type { WorkerLog } from './worker-log.js';
import { ackControl, expireScopedPauses, recordTick, recoverOrphans } from './worker.sql.js';
import { Presence } from './presence.js';

export type { WorkerLog } from './worker-log.js';
export type WorkerOptions = Readonly<{
  maxTicks?: number;
  log: WorkerLog;
  id?: string;
  /** Already announced by the CLI (presence.ts announce), before the worker's heavier imports. */
  presence?: Presence;
}>;

/**
 * The worker process, composed of three parts: the lease term (lease-term.ts:
 * epoch, renewal, loss), the tick (tick.ts, with tick.decider.ts) and the
 * control follower (control-follower.ts). Exactly one worker holds the lease
 * and works; the others wait as hot standbys. Control reaches it through
 * NOTIFY (never polling): a pause/kill/proof change wakes it, it applies the
 * change and appends ControlAcknowledged. Every write it makes is fenced by
 * its lease epoch.
 *
 * States: standby → (acquire) → active term → (lease lost) → standby …
 *                                            → (kill / SIGTERM / --max-ticks) → exit 0
 */
export class Worker {
  readonly id: string;
  private term: LeaseTerm | undefined;
  private stopping = false;
  private ticks = 0;
  private failures = 0;
  private clockOffsetMs = 0;
  private readonly waker = new Waker();
  private readonly control: ControlFollower;
  private readonly ticker: Ticker;
  private readonly presence: Presence;

  constructor(
    private readonly config: Config,
    private readonly db: Db,
    private readonly store: EventStore,
    private readonly notifier: EventNotifier,
    private readonly opts: WorkerOptions,
  ) {
    this.id = opts.id ?? `${hostname()}:${process.pid}`;
    const runner = new ActionRunner(db, config, this.id, opts.log);
    this.presence = opts.presence ?? new Presence(db, this.id, config.leaseTtlSeconds, opts.log);
    this.control = new ControlFollower({
      ack: (version) => this.ack(version),
      holding: () => this.term !== undefined && !this.term.lost,
      log: opts.log,
      onChange: () => {
        if (this.control.flags.killed) this.presence.set('stopping');
        this.waker.wake();
      },
    });
    this.ticker = new Ticker({
      config,
      recordAndClaim: (epoch, attempts, limit) => runner.recordAndClaim(epoch, attempts, limit),
      execute: (a, signal, budgetMs) => runner.execute(a, signal, budgetMs),
      expireScopedPauses: () => expireScopedPauses(db, this.id),
      recordTick: (epoch, record) => recordTick(db, this.id, epoch, record),
      dbNow: () => new Date(Date.now() + this.clockOffsetMs),
      flags: () => this.control.flags,
      stopping: () => this.stopping,
    });
  }

  /** SIGTERM/SIGINT: as kill, without setting the flag. */
  requestStop(): void {
    this.stopping = true;
    this.presence.set('stopping');
    this.waker.wake();
  }

  /** Run until killed, stopped or --max-ticks is done. Resolves with the exit code. */
  async run(): Promise<number> {
    const log = this.opts.log;
    // Announce first: a standby is visible before it does anything else.
    await this.presence.start();
    const head = await this.store.headSeq();
    // Subscribe before reading the flags: an event committed in between is
    // seen by the subscription, and evolve skips what the read already has.
    const subs: Subscription[] = [
      subscribeEvents(this.store, this.notifier, head, {
        stream: 'control',
        safetyIntervalMs: 60_000,
        // An acknowledgement (ours, mostly) changes no flag: no re-read for it
        // (the next change's read returns it with the change, and apply skips it).
        wakeFor: (p) => p.type !== 'ControlAcknowledged',
      }).subscribe((e) => this.control.apply(e)),
      subscribeEvents(this.store, this.notifier, head, {
        stream: 'lease',
        safetyIntervalMs: 60_000,
      }).subscribe((e) => this.onLease(e)),
    ];
    this.control.load(toControlState(await selectControl(this.db)));
    const proof = this.control.flags.proofMode || this.config.proofMode;
    log(
      'info',
      `worker ${this.id} started (proof mode ${proof ? 'on' : 'off'}${this.config.proofMode ? ', forced by AOL_PROOF_MODE' : ''})`,
    );
    try {
      while (!this.stopping && !this.control.flags.killed) {
        await this.ticker.settled();
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
      if (this.control.flags.killed) log('info', 'kill is set: exiting (revive to run again)');
      return 0;
    } finally {
      for (const s of subs) s.unsubscribe();
      await this.presence.stop();
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
    const term = new LeaseTerm(epoch, {
      ttlSeconds: this.config.leaseTtlSeconds,
      renew: (e) => renewLease(this.db, this.id, e, this.config.leaseTtlSeconds),
      log,
      onLost: () => this.waker.wake(),
    }).start();
    this.term = term;
    this.presence.set('active', epoch);
    let failed = false;
    log('info', `lease acquired: epoch ${epoch}, expires ${expiresAt.toISOString()}`);
    try {
      await this.recover(epoch);
      // Changes made while no worker was active are acknowledged now.
      const control = await selectControl(this.db);
      this.control.load(toControlState(control));
      if (control.ack_version < control.version) await this.ack(control.version);
      await this.tickLoop(term);
    } catch (err) {
      log('error', `active term failed: ${(err as Error).message}; back to standby`);
      term.lose('error');
      failed = true;
    } finally {
      term.end();
      this.term = undefined;
      this.presence.set(this.stopping || this.control.flags.killed ? 'stopping' : 'standby');
    }
    if (!term.lost) {
      await this.control.settled();
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

  /** A new holder's first duty: actions a lost term left RUNNING (aol_recover_orphans). */
  private async recover(epoch: number): Promise<void> {
    const idempotent = [...HANDLERS.values()].filter((h) => h.idempotent).map((h) => h.type);
    for (const r of await recoverOrphans(
      this.db,
      this.id,
      epoch,
      idempotent,
      this.config.maxRetries,
    )) {
      this.opts.log('warn', `action ${r.id} was left RUNNING by a lost lease: now ${r.status}`);
    }
  }

  private async tickLoop(term: LeaseTerm): Promise<void> {
    const flags = () => this.control.flags;
    let nextTickAt = Date.now();
    while (!term.lost) {
      if (this.stopping || flags().killed) {
        await this.control.settled();
        if (await this.ticker.run(term, 'stopping')) this.ticks++;
        break;
      }
      await this.waitUntil(nextTickAt, term);
      if (term.lost || this.stopping || flags().killed) continue;
      // Acknowledgements before new work: a resume's ack is not queued behind the claim it allows.
      await this.control.settled();
      nextTickAt = Date.now() + this.config.tickIntervalSeconds * 1000;
      this.control.tickStarted();
      if (await this.ticker.run(term, 'scheduled')) this.ticks++;
      // A kill or stop that arrived during the tick is covered by the tick just recorded.
      if (this.stopping || flags().killed) break;
      if (this.opts.maxTicks !== undefined && this.ticks >= this.opts.maxTicks) {
        this.opts.log('info', `${this.ticks} tick(s) done (--max-ticks): exiting`);
        this.stopping = true;
        break;
      }
    }
  }

  /** Sleep until the next tick, unless kill, stop, lease loss or a resume cuts it short. */
  private async waitUntil(at: number, term: LeaseTerm): Promise<void> {
    while (!term.lost && !this.stopping && !this.control.flags.killed && !this.control.resumed) {
      const ms = at - Date.now();
      if (ms <= 0) return;
      await this.waker.sleep(ms);
    }
  }

  /** ControlAcknowledged for `version`, fenced by the term held now; a standby does not acknowledge. */
  private async ack(version: number): Promise<void> {
    const term = this.term;
    if (!term) return;
    try {
      if (!(await ackControl(this.db, this.id, term.epoch, version)))
        term.lose('fenced on acknowledgement');
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
    if (r.kind === 'lost' && term) term.lose(r.why);
    else if (r.kind === 'freed') this.waker.wake(); // standby: take over now
  }
}
