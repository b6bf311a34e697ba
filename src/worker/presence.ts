import { hostname } from 'node:os';
import { Db } from '../db/db.js';
import { beat, leave, PresenceState } from '../workers/workers.sql.js';
import type { WorkerLog } from './worker-log.js';

/**
 * The worker's liveness row (aol_workers): written at once on every state
 * change (so a standby shows within a round trip of starting) and refreshed
 * every TTL/3 on its own timer, whatever the worker is doing — the same
 * cadence as lease renewal, so a process is judged dead after about three
 * missed refreshes. A failed refresh is only logged: presence must never stop
 * a worker from working. One refresh is in flight at a time; a state change
 * made meanwhile is written right after it.
 */
export class Presence {
  private state: PresenceState = 'standby';
  private epoch: number | null = null;
  private startedAt: Date | null = null;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private warned = false;
  private left = false;
  private started = false;

  constructor(
    private readonly db: Db,
    private readonly id: string,
    private readonly ttlSeconds: number,
    private readonly log: WorkerLog,
  ) {}

  /** Announce and start refreshing; a second call (Worker.run after the CLI announced) waits for the first write. */
  async start(): Promise<void> {
    if (this.started) return this.writing;
    this.started = true;
    this.timer = setInterval(() => void this.write(), (this.ttlSeconds * 1000) / 3);
    this.timer.unref();
    await this.write();
  }

  set(state: PresenceState, epoch: number | null = null): void {
    if (this.left || (state === this.state && epoch === this.epoch)) return;
    this.state = state;
    this.epoch = epoch;
    void this.write();
  }

  /** A clean exit: the row becomes `left`. */
  async stop(): Promise<void> {
    if (this.left) return;
    clearInterval(this.timer);
    this.left = true;
    await this.writing;
    await leave(this.db, this.id).catch(() => undefined);
  }

  private write(): Promise<void> {
    this.writing = this.writing.then(async () => {
      if (this.left) return;
      const [host, pid] = splitId(this.id);
      try {
        const t = await beat(this.db, {
          id: this.id,
          host,
          pid,
          state: this.state,
          epoch: this.epoch,
          ttlSeconds: this.ttlSeconds,
          startedAt: this.startedAt,
        });
        this.startedAt ??= t;
        this.warned = false;
      } catch (err) {
        if (!this.warned) this.log('warn', `presence refresh failed: ${(err as Error).message}`);
        this.warned = true;
      }
    });
    return this.writing;
  }
}

function splitId(id: string): [string, number] {
  const i = id.lastIndexOf(':');
  const pid = Number(id.slice(i + 1));
  return i > 0 && Number.isInteger(pid) ? [id.slice(0, i), pid] : [hostname(), process.pid];
}

/**
 * The worker command's early announcement: as soon as the schema is known to
 * be current, before the worker's own modules (action handlers and their
 * clients) are loaded, so a standby is visible within Node's start-up and a
 * round trip. The Worker takes this Presence over (WorkerOptions.presence).
 */
export async function announce(
  db: Db,
  ttlSeconds: number,
  log: WorkerLog,
  id = `${hostname()}:${process.pid}`,
): Promise<Presence> {
  const p = new Presence(db, id, ttlSeconds, log);
  await p.start();
  return p;
}
