import type { KeyObject } from 'node:crypto';
import type { Subscription } from 'rxjs';
import { Db } from '../db/db.js';
import { EventMetadata } from './event.types.js';
import type { EventNotifier } from './event-notifier.js';
import {
  Checkpoint,
  CheckpointPolicy,
  createCheckpoint,
  isMirrored,
  lastCheckpoint,
  mirrorCheckpoint,
  mirroredNames,
} from './checkpoints.js';
import { verifyHead } from '../common/signing.js';

export type CheckpointerOptions = Readonly<{
  key: KeyObject;
  policy: CheckpointPolicy;
  dir: string | undefined;
  metadata: EventMetadata;
  log: (level: 'info' | 'warn', msg: string) => void;
}>;

/**
 * Signs a checkpoint every `everyEvents` events or `everySeconds` seconds, in
 * the API and in the worker (whichever has AOL_SIGNING_KEY). NOTIFY pointers
 * only say when to look (a forged pointer costs one query); the decision is
 * taken again under the append lock (createCheckpoint), so several processes
 * never sign the same head. The timer looks at least once a minute, so the
 * time rule holds to within a minute (or everySeconds, when shorter).
 */
export class Checkpointer {
  private timer: NodeJS.Timeout | undefined;
  private sub: Subscription | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private lastEventSeq = 0;
  private stopped = false;

  constructor(
    private readonly db: Db,
    private readonly o: CheckpointerOptions,
  ) {}

  start(notifier?: EventNotifier): void {
    const every = Math.min(this.o.policy.everySeconds, 60) * 1000;
    this.timer = setInterval(() => this.poke(), every);
    this.timer.unref();
    this.sub = notifier?.wakeups$.subscribe((p) => {
      if (!p || p.seq - this.lastEventSeq >= this.o.policy.everyEvents) this.poke();
    });
    this.poke();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.sub?.unsubscribe();
    await this.running;
  }

  /** Run one check now, or once more after the running one. */
  poke(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.check()
      .catch((err) => {
        // A failed check (a database restart, a lock conflict) is tried again
        // in a second: the next NOTIFY may never come, and the timer is a minute.
        this.o.log('warn', `checkpoint failed: ${(err as Error).message}; retrying in 1 s`);
        setTimeout(() => this.poke(), 1000).unref();
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.poke();
        }
      });
  }

  private async check(): Promise<void> {
    const made = await createCheckpoint(this.db, this.o.key, this.o.metadata, this.o.policy);
    if (made) this.o.log('info', `signed checkpoint of seq ${made.seq} (event ${made.event_seq})`);
    const last = made ?? (await lastCheckpoint(this.db));
    if (last?.event_seq) this.lastEventSeq = last.event_seq;
    if (last) this.mirror(last);
  }

  /**
   * Mirror the latest checkpoint, whoever signed it, once it verifies with our
   * key: a forged row planted in the log must not reach the directory.
   */
  private mirror(cp: Checkpoint): void {
    const dir = this.o.dir;
    if (!dir || isMirrored(mirroredNames(dir), cp)) return;
    if (!verifyHead(this.o.key, cp, cp.signature)) {
      this.o.log('warn', `not mirroring checkpoint of seq ${cp.seq}: its signature is not ours`);
      return;
    }
    try {
      mirrorCheckpoint(dir, cp);
    } catch (err) {
      this.o.log('warn', `AOL_CHECKPOINT_DIR: ${(err as Error).message}`);
    }
  }
}

/** The one entry point: a checkpointer when this process has a key, else nothing. */
export function startCheckpointer(
  db: Db,
  config: Readonly<{
    signingKey: KeyObject | undefined;
    checkpointEveryEvents: number;
    checkpointEverySeconds: number;
    checkpointDir: string | undefined;
  }>,
  metadata: EventMetadata,
  log: CheckpointerOptions['log'],
  notifier?: EventNotifier,
): Checkpointer | undefined {
  if (!config.signingKey) return undefined;
  const c = new Checkpointer(db, {
    key: config.signingKey,
    policy: {
      everyEvents: config.checkpointEveryEvents,
      everySeconds: config.checkpointEverySeconds,
    },
    dir: config.checkpointDir,
    metadata,
    log,
  });
  c.start(notifier);
  return c;
}
