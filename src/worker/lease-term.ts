import type { WorkerLog } from './worker-log.js';

/** What a tick and the control follower need of the term they work in. */
export interface HeldTerm {
  readonly epoch: number;
  readonly lost: boolean;
  /** Aborts when the term is lost: the running action stops at once. */
  readonly signal: AbortSignal;
  lose(why: string): void;
}

export type LeaseTermDeps = Readonly<{
  ttlSeconds: number;
  /** Extend the lease (aol_lease_renew): the new expiry, or null when it is no longer ours. */
  renew: (epoch: number) => Promise<Date | null>;
  log: WorkerLog;
  /** Called once, when the term is lost (the worker wakes its loop). */
  onLost: () => void;
}>;

/**
 * One stretch as lease holder: the epoch every write is fenced with, the
 * renewal every TTL/3, and the abort signal of the running action.
 *
 * States: held → lost (renewal refused or failed, fenced, another epoch,
 * force release, error; final) or held → ended (the worker stopped renewing to
 * release it). A lost term writes nothing more; the next holder recovers.
 */
export class LeaseTerm implements HeldTerm {
  private state: 'held' | 'lost' | 'ended' = 'held';
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly epoch: number,
    private readonly deps: LeaseTermDeps,
  ) {}

  get lost(): boolean {
    return this.state === 'lost';
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Start renewing every TTL/3. */
  start(): this {
    this.timer = setInterval(() => void this.renew(), (this.deps.ttlSeconds * 1000) / 3);
    return this;
  }

  /** One renewal; a refusal or a database error loses the term (a standby re-acquires). */
  async renew(): Promise<void> {
    if (this.state !== 'held') return;
    try {
      const expires = await this.deps.renew(this.epoch);
      if (expires === null) this.lose('renewal refused');
    } catch (err) {
      // Can't renew → stop working now; standby re-acquires (same epoch if it is still ours).
      this.lose(`renewal failed: ${(err as Error).message}`);
    }
  }

  lose(why: string): void {
    if (this.state === 'lost') return;
    this.state = 'lost';
    this.deps.log('warn', `lease epoch ${this.epoch} lost (${why}): aborting the running action`);
    this.abort.abort(new Error(`lease lost: ${why}`));
    this.stopTimer();
    this.deps.onLost();
  }

  /** Stop renewing; the worker then releases the lease unless the term was lost. */
  end(): void {
    this.stopTimer();
    if (this.state === 'held') this.state = 'ended';
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
