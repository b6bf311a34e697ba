import { RetryLaterError } from './unavailable.js';

/** Replays running at once in this process; each folds the log from its nearest snapshot. */
const MAX_CONCURRENT = 2;

/**
 * Point-in-time replays (`/health/aol?at=`, `/state?at=`) fold the log from
 * the nearest snapshot at or before that point (src/history/snapshots.ts),
 * and from seq 1 where there is none (a log not yet snapshotted, or snapshots
 * off): cheap for one operator, a denial of service when a script fires forty
 * whole-log folds at once (4.9 s each, /health pushed to 503). Each caller (token
 * name) gets a token bucket of AOL_REPLAY_RATE_PER_MINUTE, burst a third of
 * it (at least 1), and at most MAX_CONCURRENT replays run at once in the
 * process; beyond either the caller gets 429 with Retry-After.
 */
export class ReplayLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private running = 0;
  private readonly perMs: number;
  private readonly burst: number;

  constructor(
    config: Readonly<{ replayRatePerMinute: number }>,
    private readonly now: () => number = Date.now,
  ) {
    this.perMs = config.replayRatePerMinute / 60_000;
    this.burst = Math.max(1, Math.floor(config.replayRatePerMinute / 3));
  }

  /** Run `fn` if `caller` may replay now; else throw 429 with the seconds to wait. */
  async run<T>(caller: string, fn: () => Promise<T>): Promise<T> {
    const t = this.now();
    const b = this.buckets.get(caller) ?? { tokens: this.burst, at: t };
    b.tokens = Math.min(this.burst, b.tokens + (t - b.at) * this.perMs);
    b.at = t;
    this.buckets.set(caller, b);
    if (b.tokens < 1) {
      const wait = Math.max(1, Math.ceil((1 - b.tokens) / this.perMs / 1000));
      throw new RetryLaterError(
        `too many point-in-time replays: a burst of ${this.burst}, then ${Math.round(this.perMs * 60_000)} per minute per token (AOL_REPLAY_RATE_PER_MINUTE); retry in ${wait} s`,
        429,
        wait,
      );
    }
    if (this.running >= MAX_CONCURRENT)
      throw new RetryLaterError(
        `${MAX_CONCURRENT} point-in-time replays are already running; retry shortly`,
        429,
        1,
      );
    b.tokens -= 1;
    this.running++;
    try {
      return await fn();
    } finally {
      this.running--;
    }
  }
}
