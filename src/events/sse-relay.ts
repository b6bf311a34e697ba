import type { Response } from 'express';
import type { Config } from '../config/config.js';
import { Db } from '../db/db.js';
import { RetryLaterError } from '../common/unavailable.js';
import { EventNotifier } from './event-notifier.js';
import { readFrames, SseFrame } from './sse.sql.js';

const PAGE_BYTES = 256 * 1024;
const PAGE_ROWS = 1000;
const HEARTBEAT_MS = 15_000;
/** Re-read without a NOTIFY this often (a safety net), and after a failed read. */
const SAFETY_MS = 5000;
const RETRY_MS = 1000;
/**
 * Page reads in flight at once across all relays: fifty clients replaying
 * from seq 0 take turns instead of all reading at once, which keeps the
 * pool and the event loop free for everything else (/health stays fast).
 */
const READS_AT_ONCE = 2;

/** Process-wide SSE figures, read by the metrics module at scrape time. */
export const sseStats = {
  open: 0,
  dropped: { stalled: 0 },
  refused: { total: 0, per_token: 0 },
};

/** A tiny FIFO semaphore. */
class Gate {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(n: number) {
    this.free = n;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

/**
 * The API's SSE relays, bounded per client. Each connection pulls pages of
 * at most PAGE_BYTES from the table and writes them only as fast as the
 * client reads: when `write` says the socket buffer is full it waits for
 * 'drain' before reading on, so a client that stops reading costs one page,
 * not the log (before: 50 such clients on a 29 MB log took the API from
 * 168 MB to 2.6 GB in 14 s). A client still blocked after
 * AOL_SSE_STALL_TIMEOUT_SECONDS is dropped and counted
 * (aol_sse_clients_dropped_total). Connections are capped in all and per
 * token; past a cap the request is refused before the stream starts.
 * Live delivery is the same pull loop, woken by NOTIFY (a latency hint only);
 * a failed read (database restart) is retried, so relays recover by
 * themselves and resume from the last seq they sent.
 */
export class SseRelays {
  private readonly perToken = new Map<string, number>();
  private readonly reads = new Gate(READS_AT_ONCE);

  constructor(
    private readonly db: Db,
    private readonly notifier: EventNotifier,
    private readonly config: Config,
  ) {}

  /** Take a connection slot for `caller`, or refuse: 503 at the server's cap, 429 at the caller's. */
  admit(caller: string): () => void {
    const mine = this.perToken.get(caller) ?? 0;
    if (sseStats.open >= this.config.sseMaxConnections) {
      sseStats.refused.total++;
      throw new RetryLaterError(
        `too many event streams open on this server (${this.config.sseMaxConnections}, AOL_SSE_MAX_CONNECTIONS); retry later`,
        503,
        5,
      );
    }
    if (mine >= this.config.sseMaxConnectionsPerToken) {
      sseStats.refused.per_token++;
      throw new RetryLaterError(
        `too many event streams open for ${caller} (${this.config.sseMaxConnectionsPerToken}, AOL_SSE_MAX_CONNECTIONS_PER_TOKEN); close one or retry later`,
        429,
        5,
      );
    }
    sseStats.open++;
    this.perToken.set(caller, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      sseStats.open--;
      const n = (this.perToken.get(caller) ?? 1) - 1;
      if (n > 0) this.perToken.set(caller, n);
      else this.perToken.delete(caller);
    };
  }

  /** Stream every event after `from` (of `stream`, if given) to `res` until the client goes. */
  relay(res: Response, from: number, stream: string | undefined, release: () => void): void {
    let closed = false;
    let dirty = true;
    let wake: (() => void) | undefined;
    const stallMs = this.config.sseStallTimeoutSeconds * 1000;

    const sub = this.notifier.followed$.subscribe((p) => {
      if (p !== null && stream && p.stream !== stream) return;
      dirty = true;
      wake?.();
    });
    const heartbeat = setInterval(() => {
      if (!res.writableNeedDrain) res.write(': ping\n\n');
    }, HEARTBEAT_MS);
    const close = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      sub.unsubscribe();
      release();
      wake?.();
    };
    res.on('close', close);

    /** Until a wake-up (or `ms`), unless one arrived since the last read. */
    const idle = (ms: number) =>
      new Promise<void>((resolve) => {
        if (dirty || closed) return resolve();
        const t = setTimeout(done, ms);
        function done() {
          clearTimeout(t);
          wake = undefined;
          resolve();
        }
        wake = done;
      });

    /** Until the socket drains; false when the client went or stayed blocked past the limit (dropped). */
    const drained = () =>
      new Promise<boolean>((resolve) => {
        const finish = (ok: boolean) => {
          clearTimeout(t);
          res.off('drain', onDrain);
          res.off('close', onClose);
          resolve(ok);
        };
        const onDrain = () => finish(true);
        const onClose = () => finish(false);
        const t = setTimeout(() => {
          sseStats.dropped.stalled++;
          res.destroy();
          finish(false);
        }, stallMs);
        res.on('drain', onDrain);
        res.on('close', onClose);
      });

    const pump = async () => {
      let last = from;
      // Rows asked for: sized from the last page's average frame, so the
      // database renders about one page, not PAGE_ROWS frames of 20 KB to
      // keep only a dozen of them.
      let rows = 100;
      // Caught up: the last page ended at the head of the log, so the next
      // read waits for a wake-up. Wake-ups come from followed$: per burst
      // and after the worker's acknowledgement of a control change, all of a
      // burst's pointers at once, so they share one read, which is not made
      // while the worker reacts (docs/benchmarks.md, reaction).
      let live = false;
      while (!closed) {
        if (live) await idle(SAFETY_MS);
        dirty = false;
        const asked = rows;
        let page: SseFrame[];
        try {
          page = await this.reads.run(() =>
            closed ? Promise.resolve([]) : readFrames(this.db, last, stream, PAGE_BYTES, asked),
          );
        } catch {
          // Database unreachable: keep `last`; the reconnect wake-up or the timer retries.
          live = false;
          dirty = false;
          await idle(RETRY_MS);
          continue;
        }
        const bytes = page.reduce((n, e) => n + e.frame.length, 0);
        // Fewer rows than asked and under the byte cap: nothing more was there
        // (a NOTIFY during the read has set `dirty`, so it is read next).
        live =
          page.length < asked &&
          page.reduce((n, e) => n + Buffer.byteLength(e.frame), 0) < PAGE_BYTES;
        if (page.length > 0)
          rows = Math.min(
            PAGE_ROWS,
            Math.max(1, Math.ceil(PAGE_BYTES / (bytes / page.length)) + 1),
          );
        for (const e of page) {
          if (closed) return;
          last = e.seq;
          if (!res.write(e.frame) && !(await drained())) return;
        }
      }
    };
    // Nothing in the loop should throw; if it does, end this stream, not the process.
    void pump()
      .catch(() => res.destroy())
      .finally(close);
  }
}
